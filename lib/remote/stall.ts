// A transfer that stops moving is failed, so that it can be retried. The GCS client waits for
// ever on a response cut short: a download whose body ends before its Content-Length, or an
// upload whose answer is cut, never settles (measured against test/gcs-server's `truncate`).
// Every GCS transfer therefore runs under a stall timer that each chunk of progress resets;
// when it fires, the transfer's stream is destroyed with an ETIMEDOUT error, which gcs-remote.ts
// classifies as unreachable and retries.
import { pipeline, type Readable, type Stream, Transform } from 'node:stream';

/** An error the remote's classifier treats as a network failure. */
export function stalledError(ms: number): Error {
  return Object.assign(
    new Error(`no progress for ${ms} ms (the connection stalled or was cut short)`),
    { code: 'ETIMEDOUT' },
  );
}

export interface StallTimer {
  /** Progress was made: start the wait again. */
  touch(): void;
  stop(): void;
}

/**
 * `source` as a stream that touches `timer` on every chunk, and fails with `source`'s error.
 * A tap, not a 'data' listener on the source: a listener would start the bytes flowing before
 * the reader is attached, and they would be lost.
 */
export function tapped(source: Readable, timer: StallTimer): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      timer.touch();
      callback(null, chunk);
    },
  });
  pipeline(source, tap, () => {});
  return tap;
}

/**
 * Destroys `victims` with a stalled error once `ms` pass without `touch()`. `progress` streams
 * touch it on every chunk they carry: only streams whose reader is attached in the same tick
 * (else use `tapped`).
 */
export function stallTimer(
  ms: number,
  victims: readonly { destroy(error?: Error): unknown }[],
  progress: readonly Stream[] = [],
): StallTimer {
  // The client can emit a second 'error' after the first has failed the pipeline that read it
  // (an error answer, then the stream's own teardown); with no listener left that would crash
  // pipe. The first error still reaches the pipeline or loop that reads the stream.
  for (const v of [...victims, ...progress])
    if ('on' in v && typeof v.on === 'function') (v as Stream).on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    const error = stalledError(ms);
    for (const v of victims) v.destroy(error);
  };
  const touch = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(fire, ms);
  };
  for (const s of progress) s.on('data', touch);
  touch();
  return {
    touch,
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const s of progress) s.off('data', touch);
    },
  };
}
