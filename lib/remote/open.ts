// Opens the store a URL names: `file://` (local-remote.ts) or `gs://` (gcs-remote.ts). The only
// module that knows the backends; everything else holds a `Remote`.
import type { Config } from '../pipeline/config.js';
import { err, ok, type Result } from '../util/result.js';
import type { Remote, RemoteOptions } from './remote.js';
import { describeStoreUrlError, parseStoreUrl } from './store-url.js';

/** The store, or one line saying why not (the URL named, with an example of a good one). */
export type OpenRemoteResult = Result<Remote, string>;

/**
 * Opens a `file://` or `gs://` URL (store-url.ts says which forms). The stores are imported
 * lazily: a file:// user never loads the GCS client.
 */
export async function openRemote(url: string, options: RemoteOptions): Promise<OpenRemoteResult> {
  const parsed = parseStoreUrl(url, options.workspace);
  if (!parsed.ok) {
    return err(
      parsed.error.kind === 'unsupported'
        ? `remote "${url}" is not a file:// or gs:// URL (e.g. PIPE_REMOTE=file:///srv/pipe-store or gs://my-bucket/pipe)`
        : describeStoreUrlError(`remote "${url}"`, parsed.error),
    );
  }
  const store = parsed.value;
  if (store.scheme === 'file') {
    const { LocalRemote } = await import('./local-remote.js');
    return ok(new LocalRemote(store.root, url));
  }
  const { GcsRemote } = await import('./gcs-remote.js');
  return ok(new GcsRemote({ ...options, url, bucket: store.bucket, prefix: store.prefix }));
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
  const retries = retrySettings(config);
  if (!retries.ok) return retries;
  const url = config.get('PIPE_REMOTE', flag);
  if (url === undefined) {
    return err(
      'no remote configured: set PIPE_REMOTE (e.g. file:///srv/pipe-store or gs://my-bucket/pipe) in config/.env.local, or pass --remote',
    );
  }
  const endpoint = config.get('PIPE_GCS_ENDPOINT')?.value;
  const opened = await openRemote(url.value, {
    ...extra,
    ...retries.value,
    workspace,
    ...(endpoint === undefined ? {} : { gcsEndpoint: endpoint }),
  });
  return opened.ok ? opened : err(`${opened.error} (PIPE_REMOTE from ${url.source})`);
}

/**
 * PIPE_GCS_RETRIES (how many times a failed GCS request is tried again),
 * PIPE_GCS_RETRY_MAX_DELAY_MS (the longest wait between tries) and PIPE_GCS_STALL_MS (how long
 * a transfer may move no byte before it is failed and retried), from the config layers. Set, they
 * win over a command's default (the build cache's 0: a down remote must not slow a build).
 */
function retrySettings(
  config: Config,
): Result<Pick<RemoteOptions, 'maxRetries' | 'retryMaxDelayMs' | 'stallMs'>, string> {
  const settings: { maxRetries?: number; retryMaxDelayMs?: number; stallMs?: number } = {};
  for (const [key, field, max] of [
    ['PIPE_GCS_RETRIES', 'maxRetries', 100],
    ['PIPE_GCS_RETRY_MAX_DELAY_MS', 'retryMaxDelayMs', 600_000],
    ['PIPE_GCS_STALL_MS', 'stallMs', 3_600_000],
  ] as const) {
    const set = config.get(key);
    if (set === undefined) continue;
    const n = Number(set.value);
    if (set.value.trim() === '' || !Number.isInteger(n) || n < 0 || n > max)
      return err(
        `${key}=${JSON.stringify(set.value)} (from ${set.source}) is not a whole number from 0 to ${max}`,
      );
    settings[field] = n;
  }
  return ok(settings);
}
