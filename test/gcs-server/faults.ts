// Fault injection for the GCS server fixture: not part of the API. A test arms rules over HTTP
// (`POST /_fixture/fail`); the next `count` requests whose method and path+query match a rule
// fail the way a remote service or network does, so a client's retries and its refusal to report
// a half-read answer can be tested against a real socket.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type FaultMode = '429' | '503' | 'drop' | 'truncate';

export interface FaultRule {
  /** An HTTP method, or '' for any. */
  readonly method: string;
  /** Tested against the path and query, e.g. `^/storage/v1/b/uploads/o\?`. */
  readonly path: RegExp;
  readonly mode: FaultMode;
  remaining: number;
}

export const FAULT_MODES: readonly FaultMode[] = ['429', '503', 'drop', 'truncate'];

/** The first armed rule matching the request, which it uses up once; undefined for none. */
export function takeFault(
  rules: FaultRule[],
  req: IncomingMessage,
  pathAndQuery: string,
): FaultMode | undefined {
  const rule = rules.find(
    (r) =>
      r.remaining > 0 && (r.method === '' || r.method === req.method) && r.path.test(pathAndQuery),
  );
  if (rule === undefined) return undefined;
  rule.remaining--;
  if (rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
  return rule.mode;
}

/**
 * Lets the response start normally, then closes the connection after half of its declared
 * Content-Length: the client sees a body that ends early, as from a proxy or a reset.
 */
export function truncateResponse(res: ServerResponse): void {
  let limit: number | undefined;
  let sent = 0;
  // writeHead(status, headers) bypasses getHeader(): read the declared length as it goes by.
  const writeHead = res.writeHead.bind(res) as (s: number, h?: Record<string, string>) => unknown;
  res.writeHead = ((status: number, headers?: Record<string, string>) => {
    const declared = Number(headers?.['Content-Length'] ?? res.getHeader('content-length'));
    limit = Number.isFinite(declared) ? Math.floor(declared / 2) : 0;
    return writeHead(status, headers);
  }) as typeof res.writeHead;
  const write = res.write.bind(res) as (chunk: Buffer, done: () => void) => boolean;
  const cut = (chunk: unknown): void => {
    limit ??= 0;
    const bytes =
      chunk === undefined || chunk === null
        ? Buffer.alloc(0)
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(String(chunk));
    const room = Math.max(0, limit - sent);
    if (room === 0) {
      res.socket?.end();
      return;
    }
    const part = bytes.subarray(0, room);
    sent += part.length;
    write(part, () => {
      if (sent >= (limit ?? 0)) res.socket?.end();
    });
  };
  res.write = ((chunk: unknown) => {
    cut(chunk);
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (typeof chunk === 'function') chunk = undefined;
    cut(chunk);
    if (sent < (limit ?? 0)) res.socket?.end();
    return res;
  }) as typeof res.end;
}
