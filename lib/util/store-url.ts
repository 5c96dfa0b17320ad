// What a `file://` or `gs://` URL names: a folder, or a bucket and a key prefix in it. The one
// parser for the remote (remote/open.ts), the download stage's uploads (through the stage API) and
// the upload sources pipeline.yaml declares as deps (build/source-deps.ts), so all accept the same
// URLs and refuse bad ones with the same words. A leaf: remote, build and pipeline all read it.
import { isAbsolute, resolve } from 'node:path';
import { err, ok, type Result } from './result.js';

export type StoreUrl =
  /** An absolute folder. */
  | { readonly scheme: 'file'; readonly root: string }
  /** `prefix` is '' or slash-separated safe segments, without outer slashes. */
  | { readonly scheme: 'gs'; readonly bucket: string; readonly prefix: string };

export type StoreUrlError =
  /** Neither file:// nor gs://: the caller names the setting and gives an example. */
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'malformed-escape' }
  | { readonly kind: 'no-folder' }
  | { readonly kind: 'bucket'; readonly bucket: string }
  | { readonly kind: 'prefix'; readonly reason: string };

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * `file:///abs/path`, `file://relative/path` (relative to `workspace`, so a committed
 * `PIPE_REMOTE=file://../shared-store` works from any checkout; not RFC 8089's host form, on
 * purpose) or `gs://bucket[/prefix]`. %-escapes in a file:// path are decoded (`my%20store`).
 */
export function parseStoreUrl(url: string, workspace: string): Result<StoreUrl, StoreUrlError> {
  if (url.startsWith('file://')) {
    let rest: string;
    try {
      rest = decodeURIComponent(url.slice('file://'.length));
    } catch {
      return err({ kind: 'malformed-escape' });
    }
    if (rest === '' || rest.includes('\0')) return err({ kind: 'no-folder' });
    return ok({ scheme: 'file', root: isAbsolute(rest) ? rest : resolve(workspace, rest) });
  }
  if (url.startsWith('gs://')) {
    const [bucket = '', ...rest] = url.slice('gs://'.length).split('/');
    if (!BUCKET.test(bucket)) return err({ kind: 'bucket', bucket });
    const prefix = parseKeyPrefix(rest.join('/'));
    if (!prefix.ok) return err({ kind: 'prefix', reason: prefix.error });
    return ok({ scheme: 'gs', bucket, prefix: prefix.value });
  }
  return err({ kind: 'unsupported' });
}

/** One line about a file:// or gs:// URL that names no store; `subject` names the URL first. */
export function describeStoreUrlError(
  subject: string,
  error: Exclude<StoreUrlError, { kind: 'unsupported' }>,
): string {
  switch (error.kind) {
    case 'malformed-escape':
      return `${subject} has a malformed %-escape (write a literal % as %25)`;
    case 'no-folder':
      return `${subject} has no folder`;
    case 'bucket':
      return `${subject}: "${error.bucket}" is not a bucket name`;
    case 'prefix':
      return `${subject}: ${error.reason}`;
  }
}

const PREFIX_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** A key prefix inside a bucket: '' or slash-separated plain segments, no '.', '..' or empty ones. */
export function parseKeyPrefix(raw: string): Result<string, string> {
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return ok('');
  for (const segment of trimmed.split('/')) {
    if (segment === '.' || segment === '..' || !PREFIX_SEGMENT.test(segment)) {
      return err(
        `prefix "${raw}" has an unsafe segment "${segment}" (letters, digits, '.', '_', '-' only)`,
      );
    }
  }
  return ok(trimmed);
}
