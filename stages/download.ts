// Stage download: uploads at UPLOADS_URL -> data/raw (exact copies, same relative paths) plus
// data/raw/manifest.json. Incremental: the runner gives us a fresh temp folder each run, so an
// upload whose identity (sha256 for file://, generation + md5 for gs://) matches the previous
// manifest is hard-linked (or copied) from the previous data/raw; only new or changed uploads are
// fetched, 8 at a time. Uploads deleted upstream are not carried over: they disappear from
// data/raw and are listed in the manifest's `deleted` (kept across runs until a path reappears).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stageContext } from '../lib/stage-context.js';
import { Config } from '../lib/config.js';
import { mapLimited } from './lib/map-limited.js';
import { openUploadSource } from './lib/upload-source.js';
import type { ManifestFile, RawManifest } from './lib/uploads.js';

const ctx = stageContext();
const config = new Config(ctx.workspace);
const url = config.get('UPLOADS_URL')?.value;
if (url === undefined) fail('UPLOADS_URL is not set; set it in config/.env.base, config/.env.local or the environment');
const opened = await openUploadSource(url, ctx.workspace, config.get('PIPE_GCS_ENDPOINT')?.value);
if (!opened.ok) fail(opened.message);

const previousRoot = join(ctx.workspace, 'data/raw');
const previous = readPreviousManifest(join(previousRoot, 'manifest.json'));
const out = ctx.out('data/raw');
mkdirSync(out, { recursive: true });

let listed: ManifestFile[];
try {
  listed = await opened.source.list();
} catch (error) {
  fail(`cannot list uploads at ${url}: ${(error as Error).message}`);
}

const known = new Map(previous?.files.map((f) => [f.path, f]));
const sameIdentity = (a: ManifestFile, b: ManifestFile | undefined) =>
  b !== undefined && a.size === b.size && a.sha256 === b.sha256 && a.md5 === b.md5 && a.generation === b.generation;

let fetched = 0;
let reused = 0;
await mapLimited(listed, 8, async (file) => {
  const destination = join(out, file.path);
  mkdirSync(dirname(destination), { recursive: true });
  const before = join(previousRoot, file.path);
  if (sameIdentity(file, known.get(file.path)) && existsSync(before) && statSync(before).size === file.size) {
    await link(before, destination).catch(() => copyFile(before, destination));
    reused++;
  } else {
    await opened.source.fetch(file.path, destination);
    fetched++;
  }
});

const present = new Set(listed.map((f) => f.path));
const deleted = [...new Set([...(previous?.deleted ?? []), ...(previous?.files.map((f) => f.path) ?? [])])]
  .filter((path) => !present.has(path))
  .sort();
const manifest: RawManifest = { source: url, files: listed, deleted };
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
ctx.writeMetrics({ records: { uploads: listed.length, fetched, reused, deleted: deleted.length } });
process.stdout.write(`download: ${listed.length} uploads (${fetched} fetched, ${reused} unchanged), ${deleted.length} deleted upstream\n`);

function readPreviousManifest(path: string): RawManifest | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RawManifest;
  } catch {
    return undefined; // first run, or an unreadable old manifest: fetch everything
  }
}

function fail(message: string): never {
  process.stderr.write(`stage ${ctx.stage}: ${message}\n`);
  process.exit(1);
}
