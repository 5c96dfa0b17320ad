// Signing keys for the trust tests, made with node:crypto directly, and the signature scheme
// docs/threat-model.md documents, written here again independently of lib/versions/signature.ts:
//   ed25519 over "pipe version manifest v1\n" + JSON.stringify(manifest without signature, null, 1) + "\n"
// so a test that checks a pushed signature with these fails if pipe ever drifts from the doc.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKey {
  /** A PEM file, mode 0600: what PIPE_SIGNING_KEY names. */
  readonly path: string;
  readonly privateKey: KeyObject;
  /** base64url of the raw 32-byte public key. */
  readonly publicKey: string;
  /** The line a config/trusted-keys/<name>.pub file holds. */
  pubLine(who: string): string;
}

export function makeTestKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const path = join(mkdtempSync(join(tmpdir(), 'pipe-key-')), 'signing-key.pem');
  writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const raw = publicKey.export({ format: 'jwk' }).x!;
  return { path, privateKey, publicKey: raw, pubLine: (who) => `ed25519 ${raw} ${who}\n` };
}

/** `manifest` (any signature dropped) signed with `key`, as the text a remote holds. */
export function signedManifestText(manifest: Record<string, unknown>, key: TestKey): string {
  const { signature: _drop, ...rest } = manifest;
  const body = `${JSON.stringify(rest, null, 1)}\n`;
  const value = sign(
    null,
    Buffer.from(`pipe version manifest v1\n${body}`),
    key.privateKey,
  ).toString('base64url');
  return `${JSON.stringify({ ...rest, signature: { algorithm: 'ed25519', publicKey: key.publicKey, value } }, null, 1)}\n`;
}
