// Stage download: uploads at UPLOADS_URL -> data/raw (exact copies, same relative paths) plus
// data/raw/manifest.json. Two ways, the same data/raw (test/download-incremental.test.ts):
//
//   from scratch (first run, --force, UPLOADS_URL changed): every upload pipe observed is placed
//     in the empty temp data/raw by the source (stages/shared/upload-source.ts): a file:// upload is
//     hard-linked from the upload folder (or, across filesystems, from the previous data/raw when
//     its sha256 matches the previous manifest); a gs:// object whose generation + md5 match is
//     linked from the previous data/raw, and only new or changed objects are downloaded.
//   incrementally (pipeline.yaml `incremental: changes`: only uploads came, changed or went):
//     the runner names the added, modified and deleted uploads (PIPE_INCREMENTAL); only those are
//     placed in the temp data/raw, which starts empty, the deleted ones are listed for removal,
//     and the runner applies both to data/raw. At 241,605 uploads this is the difference between
//     placing a quarter million links (and unlinking the old folder's) and placing one.
// Uploads deleted upstream are not carried over: they disappear from data/raw and are listed in
// the manifest's `deleted` (kept across runs until a path reappears).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config, stageContext } from '../lib/stage-api/index.js';
import { observedSource, openUploadSource, type ObservedSource } from './shared/upload-source.js';
import {
  manifestAfterChanges,
  manifestFromScratch,
  manifestText,
  sameIdentity,
  uploadFormat,
  type ManifestFile,
  type RawManifest,
} from './shared/uploads.js';

/** The dep in pipeline.yaml that names the uploads. */
const UPLOADS_DEP = `\${UPLOADS_URL}`;

const ctx = stageContext();
const config = new Config(ctx.workspace);
const url = config.get('UPLOADS_URL')?.value;
if (url === undefined)
  fail('UPLOADS_URL is not set; set it in config/.env.base, config/.env.local or the environment');
// pipeline.yaml declares the uploads as the dep ${UPLOADS_URL}: the runner observed it (a folder's
// files, a bucket's listing) and hands that over, so nothing is listed twice.
const observed = observedSource(process.env.PIPE_SOURCES, UPLOADS_DEP);
if (!observed.ok) fail(observed.error);

const previousRoot = join(ctx.workspace, 'data/raw');
const previous = readPreviousManifest(join(previousRoot, 'manifest.json'));
const out = ctx.out('data/raw');
const changes = ctx.incremental?.outs === 'changes' ? ctx.incremental.deps[UPLOADS_DEP] : undefined;
if (changes !== undefined && previous === undefined)
  fail(
    'an incremental run found no readable data/raw/manifest.json; run pipe build --force-stage download',
  );
if (ctx.incremental !== null && changes === undefined)
  rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// From scratch: every upload observed, and the whole previous manifest to link unchanged ones
// from. Incrementally: the added and modified uploads, and the previous entries of changed paths
// only (a map of a quarter million entries costs about a second on a loaded machine).
const touched =
  changes === undefined
    ? undefined
    : new Set([...changes.added, ...changes.modified, ...changes.deleted]);
const known = new Map<string, ManifestFile>();
for (const f of previous?.files ?? []) if (touched?.has(f.path) !== false) known.set(f.path, f);
const changed =
  changes === undefined
    ? undefined
    : new Set([...changes.added, ...changes.modified].filter((p) => uploadFormat(p) !== undefined));
const toPlace = changed === undefined ? observed.value : only(observed.value, changed);
const opened = openUploadSource(
  url,
  ctx.workspace,
  toPlace,
  config.get('PIPE_GCS_ENDPOINT')?.value,
);
if (!opened.ok) fail(opened.error);
const mirrored = await opened.value.mirror({ out, previousRoot, previous: known });
if (!mirrored.ok) {
  const failure = mirrored.error;
  if (failure.step === 'list') fail(`cannot list uploads at ${url}: ${failure.message}`);
  else fail(`cannot fetch upload ${failure.path} from ${url}: ${failure.message}`);
}
const placed = mirrored.value;
let manifest: RawManifest;
if (changes === undefined) manifest = manifestFromScratch(url, previous, placed);
else {
  const gone = changes.deleted.filter((p) => known.has(p));
  manifest = manifestAfterChanges(url, previous!, placed, gone);
  // Removed from data/raw by the runner once this run succeeds (PIPE_REMOVALS).
  ctx.removeFromOut('data/raw', gone);
}
// "Fetched" means new or changed since the last manifest, whatever the source did to place it.
const fetched = placed.filter((file) => !sameIdentity(file, known.get(file.path))).length;
const uploads = manifest.files.length;
const reused = uploads - fetched;
const deleted = manifest.deleted;
writeFileSync(join(out, 'manifest.json'), manifestText(manifest));
ctx.writeMetrics({ records: { uploads, fetched, reused, deleted: deleted.length } });
process.stdout.write(
  `download: ${uploads} uploads (${fetched} fetched, ${reused} unchanged), ${deleted.length} deleted upstream\n`,
);

/** The observation narrowed to `paths` (relative to the source, as PIPE_INCREMENTAL names them). */
function only(source: ObservedSource | undefined, paths: ReadonlySet<string>): ObservedSource {
  if (source === undefined)
    fail('an incremental run needs PIPE_SOURCES (pipe sets it); run the stage through pipe build');
  return source.kind === 'folder'
    ? { ...source, files: (source.files ?? []).filter((f) => paths.has(f.path)) }
    : { ...source, objects: source.objects.filter((o) => paths.has(o.path)), listHere: false };
}

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
