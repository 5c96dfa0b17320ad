// `pipe keys` and the key handling a careful user expects: a key made where push looks for it
// (0600 in a 0700 folder, never replaced), its public line printable again, a key others can read
// refused by push, and a bad trusted-key file named by file:line:col. Real CLI in temp folders.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace } from './helpers/workspace.js';

const home = mkdtempSync(join(tmpdir(), 'pipe-keys-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('pipe keys', () => {
  it('creates a private key under the config dir, prints the line to commit, and never replaces it', async () => {
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'a b\n' });
    const env = { env: { XDG_CONFIG_HOME: join(home, 'cfg') } };
    const made = await ws.pipeWith(env, 'keys', 'create', '--who', 'Ann (laptop)');
    expect(made.code, made.stderr).toBe(0);
    const key = join(home, 'cfg', 'pipe', 'signing-key.pem');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'cfg', 'pipe')).mode & 0o777).toBe(0o700);
    const line = /^ {2}(ed25519 [A-Za-z0-9_-]{43} Ann \(laptop\))$/m.exec(made.stdout)?.[1];
    expect(line, made.stdout).toBeDefined();
    expect(made.stdout).toContain('> config/trusted-keys/ann-laptop.pub');

    const again = await ws.pipeWith(env, 'keys', 'create');
    expect(again.code).toBe(7);
    expect(again.stderr).toContain('a signing key already exists');
    const shown = await ws.pipeWith(env, 'keys', 'show');
    expect(`${shown.stdout.trim()} Ann (laptop)`).toBe(line);

    ws.write('config/trusted-keys/ann.pub', `# Ann's laptop\n${line}\n`);
    const listed = await ws.pipeWith(env, 'keys', 'list');
    expect(listed.stdout).toMatch(/^ann {2}ed25519:[0-9a-f]{16} {2}Ann \(laptop\) {2}\(yours\)$/m);

    // Readable by the group: push refuses to use it, naming the fix.
    chmodSync(key, 0o640);
    expect((await ws.pipeWith(env, 'build')).code).toBe(0);
    const push = await ws.pipeWith(
      { env: { ...env.env, PIPE_REMOTE: `file://${mkdtempSync(join(home, 'store-'))}` } },
      'push',
    );
    expect(push.code).toBe(2);
    expect(push.stderr).toContain(
      `signing key ${key} is readable by others (mode 640); run: chmod 600 ${key}`,
    );
  });

  it('names a bad trusted-key file by file:line:col, and pull stops on it (exit 3)', async () => {
    const ws = await tempWorkspace({
      ...GEN_SUM_SOURCES,
      'data/in.txt': 'a b\n',
      'config/trusted-keys/ci.pub': '# CI\n  ssh-ed25519 AAAAC3Nza ci@example\n',
    });
    const store = mkdtempSync(join(home, 'store-'));
    const r = await ws.pipeWith({ env: { PIPE_REMOTE: `file://${store}` } }, 'pull', 'current');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      'config/trusted-keys/ci.pub:2:3: not a public key line; expected "ed25519 <43 base64url characters> <who>"',
    );
  });
});
