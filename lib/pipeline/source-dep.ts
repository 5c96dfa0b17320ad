// What an upload-source dep (graph/stage.ts isSourceDep) names, with the configuration it may
// read: `file:///abs` a folder anywhere, `file://rel` the workspace path it names, `gs://b/p` a
// bucket prefix, `${NAME}` whichever of these the configuration value NAME holds (flag >
// environment > config/.env.local > config/.env.base, config.ts). Used by validation
// (disk-rules.ts: a located error with the fix) and by the build (build/source-deps.ts observes it).
import { relative, sep } from 'node:path';
import { sourceVariable } from '../graph/stage.js';
import { err, ok, type Result } from '../util/result.js';
import { describeStoreUrlError, parseStoreUrl } from '../util/store-url.js';
import type { ConfigValue } from './config.js';

export type SourceTarget =
  /**
   * A folder. `rel` is its path from the workspace in POSIX form (`samples`, `../uploads`):
   * the state cache and the folder stamps key on it, so it costs what a folder inside does.
   */
  | {
      readonly kind: 'folder';
      readonly url: string;
      readonly root: string;
      readonly rel: string;
      readonly inside: boolean;
    }
  /** A bucket prefix; `url` is `gs://bucket/prefix` (prefix without outer slashes, maybe ''). */
  | {
      readonly kind: 'bucket';
      readonly url: string;
      readonly bucket: string;
      readonly prefix: string;
    };

/** Why a source dep names nothing usable, and the fix; `where` says where to change it. */
export interface SourceProblem {
  readonly message: string;
  readonly fix: string;
}

const example = 'file:///data/uploads (a folder) or gs://my-bucket/uploads (a bucket prefix)';

export function resolveSourceDep(
  declared: string,
  workspace: string,
  config: (name: string) => ConfigValue | undefined,
): Result<SourceTarget, SourceProblem> {
  const name = sourceVariable(declared);
  if (declared.startsWith('${') && name === undefined)
    return err({
      message: `"${declared}" is not a configuration value's name`,
      fix: `write \${NAME}, NAME of letters, digits and "_" (e.g. \${UPLOADS_URL}), or a URL`,
    });
  const value = name === undefined ? undefined : config(name);
  if (name !== undefined && value === undefined)
    return err({
      message: `${name} is not set, so "${declared}" names no upload source`,
      fix: `set ${name} in config/.env.local (yours), config/.env.base (committed defaults) or the environment, e.g.\n${name}=${example}`,
    });
  const url = value?.value ?? declared;
  const subject = value === undefined ? `"${url}"` : `${name}=${url} (from ${from(value)})`;
  const parsed = parseStoreUrl(url, workspace);
  if (!parsed.ok) {
    const problem =
      parsed.error.kind === 'unsupported'
        ? `${subject} is neither file://<folder> nor gs://<bucket>/<prefix>`
        : describeStoreUrlError(subject, parsed.error);
    return err({
      message: problem,
      fix: value === undefined ? `write ${example}` : `set ${name} to ${example} in ${from(value)}`,
    });
  }
  const store = parsed.value;
  if (store.scheme === 'gs') {
    const base = `gs://${store.bucket}${store.prefix === '' ? '' : `/${store.prefix}`}`;
    return ok({ kind: 'bucket', url: base, bucket: store.bucket, prefix: store.prefix });
  }
  const rel = relative(workspace, store.root).split(sep).join('/') || '.';
  const inside = rel !== '..' && !rel.startsWith('../') && !rel.startsWith('/');
  return ok({ kind: 'folder', url, root: store.root, rel, inside });
}

function from(value: ConfigValue): string {
  if (value.source === '.env.local' || value.source === '.env.base')
    return `config/${value.source}`;
  return value.source === 'flag' ? 'the command line' : 'the environment';
}
