// Bounded parallel transfers (uploads for push, downloads for pull) with progress: on a terminal
// one redrawn line with files, bytes, rate and ETA; in CI or a pipe, a plain line every 10% so a
// log shows the transfer moving without thousands of lines.
//
// The first failure stops new transfers from starting; the ones in flight finish (a half-sent
// object is the store's business: it never becomes visible). The caller gets that failure back.
import { err, ok, type Result } from '../util/result.js';
import { mapConcurrent } from '../util/worker-pool.js';
import type { RemoteError, RemoteResult } from './remote.js';
import { formatBytes } from '../util/bytes.js';

export { formatBytes };

export interface Transfer {
  /** Bytes it moves, for the bar. */
  readonly size: number;
  readonly run: () => Promise<RemoteResult<unknown>>;
}

export interface TransferOptions {
  /** 'uploading' / 'downloading'. */
  readonly verb: string;
  readonly concurrency: number;
  readonly stream: NodeJS.WriteStream;
  /** Redraw a line on a terminal; false in CI, in a pipe, or with --json. */
  readonly live: boolean;
  /** Print nothing at all (--json). */
  readonly silent?: boolean;
  readonly now?: () => number;
}

/** What moved, or the first failure (the transfers in flight with it finished first). */
export type TransferOutcome = Result<
  { readonly bytes: number; readonly files: number },
  RemoteError
>;

/** True when progress should redraw one line: a terminal, outside CI. */
export function isLiveTerminal(stream: NodeJS.WriteStream): boolean {
  const ci = process.env.CI ?? '';
  return stream.isTTY === true && (ci === '' || ci === 'false');
}

export async function runTransfers(
  transfers: readonly Transfer[],
  options: TransferOptions,
): Promise<TransferOutcome> {
  const now = options.now ?? Date.now;
  const total = transfers.reduce((sum, t) => sum + t.size, 0);
  const started = now();
  let doneFiles = 0;
  let doneBytes = 0;
  let failure: RemoteError | undefined;
  let lastDraw = 0;
  let lastTenth = 0;
  const say = (text: string, final = false): void => {
    if (options.silent) return;
    if (options.live) options.stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else options.stream.write(`${text}\n`);
  };
  const line = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = doneBytes / seconds;
    const eta = rate > 0 ? (total - doneBytes) / rate : 0;
    return `${options.verb} ${doneFiles}/${transfers.length} files, ${formatBytes(doneBytes)}/${formatBytes(total)}, ${formatBytes(rate)}/s, ETA ${Math.ceil(eta)}s`;
  };
  const progress = (): void => {
    if (options.live) {
      if (now() - lastDraw >= 100) {
        lastDraw = now();
        say(line());
      }
      return;
    }
    const tenth = Math.floor(
      10 * (total === 0 ? doneFiles / transfers.length : doneBytes / total) + 1e-9,
    );
    if (tenth > lastTenth && doneFiles < transfers.length) {
      lastTenth = tenth;
      say(line());
    }
  };

  if (transfers.length > 0) say(`${options.verb} ${transfers.length} files, ${formatBytes(total)}`);
  await mapConcurrent(transfers, options.concurrency, async (transfer) => {
    if (failure !== undefined) return; // after the first failure, nothing new starts
    const result = await transfer.run();
    if (!result.ok) {
      failure ??= result.error;
      return;
    }
    doneFiles++;
    doneBytes += transfer.size;
    progress();
  });
  if (transfers.length > 0) say(line(), true);
  return failure === undefined ? ok({ bytes: doneBytes, files: doneFiles }) : err(failure);
}
