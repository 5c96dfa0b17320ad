// Stage download: uploads at UPLOADS_URL -> data/raw (exact copies, same relative paths) plus
// data/raw/manifest.json. Incremental: the runner gives us a fresh temp folder each run, and the
// source (stages/lib/upload-source.ts) fills it, reusing what has not changed: a file:// upload is
// hard-linked from the upload folder (or, across filesystems, from the previous data/raw when its
// sha256 matches the previous manifest); a gs:// object whose generation + md5 match is linked
// from the previous data/raw, and only new or changed objects are downloaded. Uploads deleted
// upstream are not carried over: they disappear from data/raw and are listed in the manifest's
// `deleted` (kept across runs until a path reappears).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config, stageContext } from '../lib/stage-api/index.js';
import { observedSource, openUploadSource } from './lib/upload-source.js';
import { sameIdentity, type RawManifest } from './lib/uploads.js';

const ctx = stageContext();
const config = new Config(ctx.workspace);
const url = config.get('UPLOADS_URL')?.value;
if (url === undefined)
  fail('UPLOADS_URL is not set; set it in config/.env.base, config/.env.local or the environment');
// pipeline.yaml declares the uploads as the dep ${UPLOADS_URL}: the runner observed it (a folder's
// files, a bucket's listing) and hands that over, so nothing is listed twice.
const observed = observedSource(process.env.PIPE_SOURCES, `\${UPLOADS_URL}`);
if (!observed.ok) fail(observed.error);
const opened = openUploadSource(
  url,
  ctx.workspace,
  observed.value,
  config.get('PIPE_GCS_ENDPOINT')?.value,
);
if (!opened.ok) fail(opened.error);

const previousRoot = join(ctx.workspace, 'data/raw');
const previous = readPreviousManifest(join(previousRoot, 'manifest.json'));
const known = new Map(previous?.files.map((f) => [f.path, f]));
const out = ctx.out('data/raw');
mkdirSync(out, { recursive: true });

const mirrored = await opened.value.mirror({ out, previousRoot, previous: known });
if (!mirrored.ok) {
  const failure = mirrored.error;
  if (failure.step === 'list') fail(`cannot list uploads at ${url}: ${failure.message}`);
  else fail(`cannot fetch upload ${failure.path} from ${url}: ${failure.message}`);
}
const listed = mirrored.value;
// "Fetched" means new or changed since the last manifest, whatever the source did to place it.
const reused = listed.filter((file) => sameIdentity(file, known.get(file.path))).length;
const fetched = listed.length - reused;

const present = new Set(listed.map((f) => f.path));
const deleted = [
  ...new Set([...(previous?.deleted ?? []), ...(previous?.files.map((f) => f.path) ?? [])]),
]
  .filter((path) => !present.has(path))
  .sort();
const manifest: RawManifest = { source: url, files: listed, deleted };
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
ctx.writeMetrics({ records: { uploads: listed.length, fetched, reused, deleted: deleted.length } });
process.stdout.write(
  `download: ${listed.length} uploads (${fetched} fetched, ${reused} unchanged), ${deleted.length} deleted upstream\n`,
);

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
