// The keys behind signed versions (docs/threat-model.md):
// - a private key, one per person or CI job, never committed: PEM (PKCS#8, ed25519) at
//   PIPE_SIGNING_KEY, else $XDG_CONFIG_HOME/pipe/signing-key.pem (~/.config/pipe/...), mode 0600;
// - the public keys a team trusts, committed: one file per key, config/trusted-keys/<name>.pub,
//   holding one line `ed25519 <key, base64url> <who>` (what `pipe keys create` prints), so a
//   review of the file's commit is a review of who may publish outputs a build reuses.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Config } from '../pipeline/config.js';
import { err, ok, type Result } from '../util/result.js';

/** Committed, relative to the workspace. */
export const TRUSTED_KEYS_DIR = 'config/trusted-keys';

export interface TrustedKey {
  /** The file's name without `.pub`: how messages name the key (`ci`, `jane`). */
  readonly name: string;
  /** Free text after the key on its line: who holds it. */
  readonly who: string;
  /** base64url of the 32-byte ed25519 public key. */
  readonly publicKey: string;
  readonly fingerprint: string;
}

export interface SigningKey {
  readonly path: string;
  readonly privateKey: KeyObject;
  /** base64url of the 32-byte ed25519 public key. */
  readonly publicKey: string;
  readonly fingerprint: string;
}

/** Where the signing key is: PIPE_SIGNING_KEY (any config layer), else the user's config dir. */
export function signingKeyPath(config: Config, env: NodeJS.ProcessEnv = process.env) {
  const set = config.get('PIPE_SIGNING_KEY');
  if (set !== undefined) return { path: set.value, explicit: true, source: set.source };
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return { path: join(base, 'pipe', 'signing-key.pem'), explicit: false, source: 'default' };
}

/** `ed25519:` and the first 16 hex digits of the sha256 of the raw key: short, unambiguous enough to name. */
export function fingerprintOf(publicKey: string): string {
  const raw = Buffer.from(publicKey, 'base64url');
  return `ed25519:${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
}

/** The line a `.pub` file holds. */
export function publicKeyLine(publicKey: string, who: string): string {
  return `ed25519 ${publicKey}${who === '' ? '' : ` ${who}`}`;
}

export function publicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

function rawPublicKey(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return jwk.x!;
}

/** The key at `path`, refused (with the fix) when it is missing, not ed25519, or readable by others. */
export function loadSigningKey(path: string): Result<SigningKey, string> {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if ((mode & 0o077) !== 0)
      return err(
        `signing key ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return err(`signing key ${path} does not exist (create one: npx pipe keys create)`);
    return err(`signing key ${path} could not be read: ${(error as Error).message}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (error) {
    return err(`signing key ${path} is not a PEM private key (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    return err(
      `signing key ${path} is ${privateKey.asymmetricKeyType}, not ed25519 (create one: npx pipe keys create)`,
    );
  const publicKey = rawPublicKey(privateKey);
  return ok({ path, privateKey, publicKey, fingerprint: fingerprintOf(publicKey) });
}

/** A new key at `path` (folder 0700, file 0600, created exclusively: an existing key is never replaced). */
export function createSigningKey(path: string): Result<SigningKey, string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return err(
        `a signing key already exists at ${path}; it is never replaced (its public key: npx pipe keys show)`,
      );
    return err(`could not write ${path}: ${(error as Error).message}`);
  }
  return loadSigningKey(path);
}

const KEY_LINE = /^ed25519\s+([A-Za-z0-9_-]{43})(?:\s+(.*))?$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Every key in config/trusted-keys/ (none when the folder is absent), or the first bad file as
 * `file:line:col: problem` and the fix. Files not ending in `.pub` (a README) are not keys.
 */
export function readTrustedKeys(workspace: string): Result<TrustedKey[], string> {
  const folder = join(workspace, TRUSTED_KEYS_DIR);
  let names: string[];
  try {
    names = readdirSync(folder)
      .filter((n) => n.endsWith('.pub'))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ok([]);
    return err(`${TRUSTED_KEYS_DIR}: ${(error as Error).message}`);
  }
  const keys: TrustedKey[] = [];
  for (const file of names) {
    const rel = `${TRUSTED_KEYS_DIR}/${file}`;
    const name = file.slice(0, -'.pub'.length);
    if (!KEY_NAME.test(name))
      return err(
        `${rel}: the name "${name}" must be letters, digits, '.', '_', '-' (rename the file)`,
      );
    const lines = readFileSync(join(folder, file), 'utf8').split('\n');
    const found: TrustedKey[] = [];
    for (const [i, line] of lines.entries()) {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) continue;
      const m = KEY_LINE.exec(text);
      const col = line.length - line.trimStart().length + 1;
      if (m === null)
        return err(
          `${rel}:${i + 1}:${col}: not a public key line; expected "ed25519 <43 base64url characters> <who>" as \`npx pipe keys show\` prints it`,
        );
      try {
        publicKeyObject(m[1]!);
      } catch {
        return err(`${rel}:${i + 1}:${col + 8}: not a valid ed25519 public key`);
      }
      found.push({
        name,
        who: m[2]?.trim() ?? '',
        publicKey: m[1]!,
        fingerprint: fingerprintOf(m[1]!),
      });
    }
    if (found.length !== 1)
      return err(
        `${rel}: holds ${found.length} keys; put exactly one key line in each .pub file (one file per key)`,
      );
    keys.push(found[0]!);
  }
  return ok(keys);
}

/**
 * The key `pipe push` signs with: PIPE_SIGNING_KEY (which must load), else the default path when
 * a key is there, else undefined (an unsigned push, said by the command). A key that is present
 * but unusable is an error, never silently skipped.
 */
export function pushSigningKey(config: Config): Result<{ key?: SigningKey; path: string }, string> {
  const where = signingKeyPath(config);
  const loaded = loadSigningKey(where.path);
  if (loaded.ok) return ok({ key: loaded.value, path: where.path });
  if (!where.explicit && !existsSync(where.path)) return ok({ path: where.path });
  return err(
    where.explicit ? `${loaded.error} (PIPE_SIGNING_KEY from ${where.source})` : loaded.error,
  );
}

/** What push says about the signature of the version it made (or would make). */
export function signatureNote(signedWith: string | null, keyPath: string): string {
  return signedWith === null
    ? `unsigned: no signing key at ${keyPath}, so teammates' builds will not reuse this version and \`pipe pull\` refuses it without --accept-untrusted (create a key: npx pipe keys create)`
    : `signed with ${signedWith} (builds reuse it where ${TRUSTED_KEYS_DIR}/ holds this key)`;
}

/** A file name for a holder's key: `jane@laptop` -> `jane`, `CI release job` -> `ci-release-job`. */
export function suggestedKeyName(who: string): string {
  const name = (who.split('@')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '')
    .slice(0, 40);
  return name === '' ? 'my-key' : name;
}
