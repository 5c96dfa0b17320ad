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
//     placing a quarter million links (and unlinking the old folder's) and placing one. The
//     manifest is the previous one with the changed uploads' lines spliced in or out
//     (stages/shared/manifest-lines.ts), never parsed whole.
// Uploads deleted upstream are not carried over: they disappear from data/raw and are listed in
// the manifest's `deleted` (kept across runs until a path reappears).
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Config, stageContext, type DepChanges } from '../lib/stage-api/index.js';
import { observedSource, openUploadSource, type ObservedSource } from './shared/upload-source.js';
import { ManifestLines } from './shared/manifest-lines.js';
import {
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
const observation = observedSource(process.env.PIPE_SOURCES, UPLOADS_DEP);
if (!observation.ok) fail(observation.error);
const observed = observation.value;

const previousRoot = join(ctx.workspace, 'data/raw');
const out = ctx.out('data/raw');
const changes = ctx.incremental?.outs === 'changes' ? ctx.incremental.deps[UPLOADS_DEP] : undefined;
if (ctx.incremental !== null && changes === undefined)
  rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const counts =
  changes === undefined
    ? await fromScratch(readPreviousManifest(join(previousRoot, 'manifest.json')))
    : await afterChanges(changes);
ctx.writeMetrics({ records: counts });
process.stdout.write(
  `download: ${counts.uploads} uploads (${counts.fetched} fetched, ${counts.reused} unchanged), ${counts.deleted} deleted upstream\n`,
);

interface Counts {
  readonly uploads: number;
  readonly fetched: number;
  readonly reused: number;
  readonly deleted: number;
}

/** Every upload observed, with the whole previous manifest to link unchanged ones from. */
async function fromScratch(previous: RawManifest | undefined): Promise<Counts> {
  const known = new Map<string, ManifestFile>();
  for (const f of previous?.files ?? []) known.set(f.path, f);
  const placed = await place(observed, known);
  const manifest = manifestFromScratch(url!, previous, placed);
  writeFileSync(join(out, 'manifest.json'), manifestText(manifest));
  const uploads = manifest.files.length;
  const fetched = countFetched(placed, known);
  return { uploads, fetched, reused: uploads - fetched, deleted: manifest.deleted.length };
}

/**
 * Only the added and modified uploads, and the previous manifest's lines of changed paths (looked
 * up, not parsed whole); the next manifest is the previous text with those lines spliced in or out.
 */
async function afterChanges(changes: DepChanges): Promise<Counts> {
  let previous: ManifestLines;
  try {
    previous = ManifestLines.read(join(previousRoot, 'manifest.json'));
  } catch (error) {
    fail(
      `an incremental run found no readable data/raw/manifest.json (${(error as Error).message}); run pipe build --force-stage download`,
    );
  }
  const known = new Map<string, ManifestFile>();
  for (const path of [...changes.added, ...changes.modified, ...changes.deleted]) {
    const entry = previous.find(path);
    if (entry !== undefined) known.set(path, entry);
  }
  const changed = new Set(
    [...changes.added, ...changes.modified].filter((p) => uploadFormat(p) !== undefined),
  );
  const placed = await place(only(observed, changed), known);
  const gone = changes.deleted.filter((p) => known.has(p));
  const next = previous.afterChanges(url!, placed, gone);
  // Removed from data/raw by the runner once this run succeeds (PIPE_REMOVALS).
  ctx.removeFromOut('data/raw', gone);
  const fd = openSync(join(out, 'manifest.json'), 'w');
  try {
    for (const piece of next.pieces)
      for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at);
  } finally {
    closeSync(fd);
  }
  const fetched = countFetched(placed, known);
  return {
    uploads: next.uploads,
    fetched,
    reused: next.uploads - fetched,
    deleted: next.deleted.length,
  };
}

/** Places `toPlace` in the temp data/raw, linking or copying from `known` where it is unchanged. */
async function place(
  toPlace: ObservedSource | undefined,
  known: ReadonlyMap<string, ManifestFile>,
): Promise<readonly ManifestFile[]> {
  const opened = openUploadSource(
    url!,
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
  return mirrored.value;
}

/** "Fetched" means new or changed since the last manifest, whatever the source did to place it. */
function countFetched(placed: readonly ManifestFile[], known: ReadonlyMap<string, ManifestFile>) {
  return placed.filter((file) => !sameIdentity(file, known.get(file.path))).length;
}

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
