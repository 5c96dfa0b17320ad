// A stage's node process, started before its stage is known to run (warm-host.ts starts it, the
// runner hands it a stage or ends it). Meanwhile node boots and the CommonJS packages the stage
// referred to on its last run are loaded, ~0.1-0.15 s of each stage start (node's own boot, DuckDB's
// 124 modules and native library) that then passes while the stage before it runs.
//
// It waits for one line on fd 3, `{"entry": "<compiled stage file>", "env": {...}}`; then the
// environment becomes exactly the stage's, process.argv is [node, entry], and the entry is
// imported: from there on it is the stage, as `node --enable-source-maps <entry>` would run it.
// fd 3 closed without a line (the stage was fresh, the build ended, pipe died): it exits.
//
// What is loaded early sees the environment pipe started this process with: the stage's own but
// for the PIPE_* variables (warm-host.ts takes it only then), which a package must not read while
// it is imported. The stage's own modules are loaded only after the environment is set.
//
// argv: <workspace> <package>...
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Launch {
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
}

/** The first line on `fd`, or undefined when it closes before one. */
function firstLine(fd: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket({ fd, readable: true, writable: false });
    let text = '';
    const done = (line: string | undefined): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(line);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end !== -1) done(text.slice(0, end));
    });
    socket.on('end', () => done(undefined));
    socket.on('error', () => done(undefined));
  });
}

/**
 * Whether `file` is a CommonJS module. Only those are loaded early: a package the stage refers to
 * is not always one it loads (tsx is named for worker threads that run uncompiled, and its ES
 * module entry registers loader hooks when imported: every later import would go through them).
 */
function isCommonJs(file: string): boolean {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { type } = JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown };
      return type !== 'module';
    }
    if (dirname(dir) === dir) return true;
  }
}

const [workspace, ...packages] = process.argv.slice(2);
const launched = firstLine(3);
if (workspace !== undefined) {
  // Resolved as the stage resolves them: from the workspace's node_modules. A package that cannot
  // be loaded this way (gone, failing) is left to the stage, which says why.
  const require = createRequire(join(workspace, 'package.json'));
  for (const name of packages) {
    try {
      const file = require.resolve(name);
      if (isCommonJs(file)) require(file);
    } catch {
      // the stage loads it itself
    }
  }
}
const line = await launched;
if (line === undefined) process.exit(0);
const { entry, env } = JSON.parse(line) as Launch;
for (const name of Object.keys(process.env)) if (!(name in env)) delete process.env[name];
Object.assign(process.env, env);
process.argv = [process.argv[0]!, entry];
await import(pathToFileURL(entry).href);
