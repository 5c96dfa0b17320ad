// Opens the store a URL names: `file://` (local-remote.ts) or `gs://` (gcs-remote.ts). The only
// module that knows the backends; everything else holds a `Remote`.
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../pipeline/config.js';
import { parseKeyPrefix } from './remote-path.js';
import type { Remote, RemoteOptions } from './remote.js';

export type OpenRemoteResult =
  | { readonly ok: true; readonly remote: Remote }
  | { readonly ok: false; readonly message: string };

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Opens `file:///abs/path`, `file://relative/path` (relative to the workspace, so a committed
 * `PIPE_REMOTE=file://../shared-store` works from any checkout) or `gs://bucket[/prefix]`.
 * The stores are imported lazily: a file:// user never loads the GCS client.
 */
export async function openRemote(url: string, options: RemoteOptions): Promise<OpenRemoteResult> {
  if (url.startsWith('file://')) {
    let rest: string;
    try {
      rest = decodeURIComponent(url.slice('file://'.length)); // file:///data/my%20store
    } catch {
      return {
        ok: false,
        message: `remote "${url}" has a malformed %-escape (write a literal % as %25)`,
      };
    }
    if (rest === '' || rest.includes('\0'))
      return { ok: false, message: `remote "${url}" has no folder` };
    const root = isAbsolute(rest) ? rest : resolve(options.workspace, rest);
    const { LocalRemote } = await import('./local-remote.js');
    return { ok: true, remote: new LocalRemote(root, url) };
  }
  if (url.startsWith('gs://')) {
    const [bucket = '', ...rest] = url.slice('gs://'.length).split('/');
    if (!BUCKET.test(bucket))
      return { ok: false, message: `remote "${url}": "${bucket}" is not a bucket name` };
    const prefix = parseKeyPrefix(rest.join('/'));
    if (!prefix.ok) return { ok: false, message: `remote "${url}": ${prefix.reason}` };
    const { GcsRemote } = await import('./gcs-remote.js');
    return { ok: true, remote: new GcsRemote({ ...options, url, bucket, prefix: prefix.value }) };
  }
  return {
    ok: false,
    message: `remote "${url}" is not a file:// or gs:// URL (e.g. PIPE_REMOTE=file:///srv/pipe-store or gs://my-bucket/pipe)`,
  };
}

/**
 * The remote a command uses: `flag` (e.g. --remote) > PIPE_REMOTE from the environment or the
 * config files; PIPE_GCS_ENDPOINT the same way. Errors say where the bad value came from.
 */
export async function openConfiguredRemote(
  config: Config,
  workspace: string,
  flag?: string,
  extra: Pick<RemoteOptions, 'maxRetries'> = {},
): Promise<OpenRemoteResult> {
  const url = config.get('PIPE_REMOTE', flag);
  if (url === undefined) {
    return {
      ok: false,
      message:
        'no remote configured: set PIPE_REMOTE (e.g. file:///srv/pipe-store or gs://my-bucket/pipe) in config/.env.local, or pass --remote',
    };
  }
  const endpoint = config.get('PIPE_GCS_ENDPOINT')?.value;
  const opened = await openRemote(url.value, {
    ...extra,
    workspace,
    ...(endpoint === undefined ? {} : { gcsEndpoint: endpoint }),
  });
  return opened.ok
    ? opened
    : { ok: false, message: `${opened.message} (PIPE_REMOTE from ${url.source})` };
}
