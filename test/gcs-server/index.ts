// Starts the GCS JSON API server fixture as a real child process on a free 127.0.0.1 port with
// temporary storage, for any test that needs a bucket: the remote suite, push/pull CLI tests,
// benchmarks. Point the real client at it with `apiEndpoint: server.url` (or PIPE_GCS_ENDPOINT).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly status: number;
}

export interface GcsServer {
  /** e.g. http://127.0.0.1:41234, the client's apiEndpoint. */
  readonly url: string;
  /** The server process, whose CPU time a benchmark may read from /proc. */
  readonly pid: number;
  /** Where the server keeps bytes (data/<generation>), sessions (uploads/) and requests.jsonl. */
  readonly storageDir: string;
  /** Every request answered so far, in order. */
  requests(): Promise<LoggedRequest[]>;
  /** The file holding the bytes of one object generation: tests corrupt it to play a bad disk. */
  dataFile(generation: string): string;
  /** Makes the server store the next upload of `name` with its first byte flipped. */
  corruptNextUpload(name: string): Promise<void>;
  /**
   * Makes the next `count` (default 1) requests whose method (default any) and path+query (a
   * regular expression, e.g. `^/storage/v1/b/B/o\\?`) match fail: 429 or 503 with the service's
   * error body, `drop` the connection unanswered, or `truncate` the body after half its length.
   */
  injectFailure(rule: {
    path: string;
    mode: '429' | '503' | 'drop' | 'truncate';
    method?: string;
    count?: number;
  }): Promise<void>;
  /** Makes listings answer `Accept-Encoding: gzip` with a compressed body, as GCS does. */
  setGzip(on: boolean): Promise<void>;
  /** Adds `ms` each way to every later request (2 * ms per request). */
  setLatency(ms: number): Promise<void>;
  /** Creates or replaces `names` in `bucket` at once, each holding `content` (default `{}`). */
  bulkCreate(bucket: string, names: readonly string[], content?: string): Promise<void>;
  stop(): Promise<void>;
}

const MAIN = new URL('./main.ts', import.meta.url).pathname;
/** The repository root, where `--import tsx` resolves, whatever folder the caller runs in. */
const REPO = new URL('../..', import.meta.url).pathname;

export async function startGcsServer(
  buckets: readonly string[] = ['pipe-test'],
  options: { latencyMs?: number } = {},
): Promise<GcsServer> {
  const storageDir = await mkdtemp(join(tmpdir(), 'gcs-server-'));
  const latency =
    options.latencyMs === undefined ? [] : ['--latency-ms', String(options.latencyMs)];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, ...latency, storageDir, ...buckets],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const m = /^listening (http:\/\/\S+)$/.exec(line);
      if (m !== null) resolve(m[1]!);
      else reject(new Error(`gcs-server said: ${line}`));
    });
    child.once('exit', (code) =>
      reject(new Error(`gcs-server exited with ${code} before listening`)),
    );
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    pid: child.pid!,
    storageDir,
    async requests() {
      const text = await readFile(join(storageDir, 'requests.jsonl'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as LoggedRequest);
    },
    dataFile: (generation) => join(storageDir, 'data', generation),
    corruptNextUpload: (name) => fixture(url, 'corrupt-next-upload', { name }),
    injectFailure: ({ path, mode, method = '', count = 1 }) =>
      fixture(url, 'fail', { path, mode, method, count: String(count) }),
    setGzip: (on) => fixture(url, 'gzip', { on: on ? '1' : '0' }),
    setLatency: (ms) => fixture(url, 'latency', { ms: String(ms) }),
    bulkCreate: (bucket, names, content = '{}') =>
      fixture(url, 'bulk-objects', { bucket, content }, names.join('\n')),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}

async function fixture(
  url: string,
  call: string,
  query: Record<string, string>,
  body?: string,
): Promise<void> {
  const response = await fetch(`${url}/_fixture/${call}?${new URLSearchParams(query)}`, {
    method: 'POST',
    ...(body === undefined ? {} : { body }),
  });
  if (!response.ok)
    throw new Error(
      `gcs-server fixture ${call} answered ${response.status}: ${await response.text()}`,
    );
  await response.arrayBuffer().catch(() => undefined);
}
