// runTransfers in-process: bounded parallelism, the first failure stops new transfers, and the
// quiet CI output (a start line, a line per 10%, a final line). Transfers here are timers, so the
// counts are exact; what they move is irrelevant to the scheduling.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RemoteResult } from '../lib/remote/remote.js';
import { formatBytes, runTransfers, type Transfer } from '../lib/remote/transfer-progress.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _e, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runTransfers', () => {
  it('keeps at most `concurrency` in flight and moves every byte', async () => {
    let inFlight = 0;
    let most = 0;
    const transfers: Transfer[] = Array.from({ length: 40 }, () => ({
      size: 100,
      run: async (): Promise<RemoteResult<unknown>> => {
        most = Math.max(most, ++inFlight);
        await wait(2);
        inFlight--;
        return { ok: true, value: 'stored' };
      },
    }));
    const out = sink();
    const result = await runTransfers(transfers, {
      verb: 'uploading',
      concurrency: 6,
      stream: out.stream,
      live: false,
    });
    expect(result).toEqual({ ok: true, value: { bytes: 4000, files: 40 } });
    expect(most).toBe(6);
    const lines = out.text().trim().split('\n');
    expect(lines[0]).toBe('uploading 40 files, 3.9 KiB'); // 4000 B / 1024
    expect(lines.length).toBeLessThanOrEqual(12); // start + at most one per 10% + final
    expect(lines.at(-1)).toMatch(/^uploading 40\/40 files, 3\.9 KiB\/3\.9 KiB, .*ETA 0s$/);
  });

  it('starts nothing new after the first failure and returns it', async () => {
    let started = 0;
    const transfers: Transfer[] = Array.from({ length: 20 }, (_, i) => ({
      size: 1,
      run: async (): Promise<RemoteResult<unknown>> => {
        started++;
        await wait(1);
        return i === 3
          ? { ok: false, error: { kind: 'not-found', what: `object ${i}` } }
          : { ok: true, value: 'stored' };
      },
    }));
    const result = await runTransfers(transfers, {
      verb: 'downloading',
      concurrency: 2,
      stream: sink().stream,
      live: false,
      silent: true,
    });
    expect(result).toMatchObject({ ok: false, error: { kind: 'not-found', what: 'object 3' } });
    expect(started).toBeLessThanOrEqual(5); // 0..3 plus the one its lane-mate may have started
  });

  it('formats sizes in binary units', () => {
    expect([
      formatBytes(0),
      formatBytes(1023),
      formatBytes(1536),
      formatBytes(5 * 1024 ** 3),
    ]).toEqual(['0 B', '1023 B', '1.5 KiB', '5.0 GiB']);
  });
});
