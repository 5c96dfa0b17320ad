// Names shaped like the web app's uploads, for the benches that fill a bucket on the GCS test
// server (bench/gcs-listing.ts, bench/status-gcs.ts): deterministic, so every run lists the same keys.

/** Sessions per generated user, as in the keystroke benches' generated sets. */
export const SESSIONS_PER_USER = 15;

/** `uploads/user-NNNNN/<8-4-4-12 hex>.session.json`, `count` of them, the same on every call. */
export function uploadNames(count: number): string[] {
  let x = 12345;
  const hex = (digits: number) => {
    let out = '';
    for (let i = 0; i < digits; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out += (x >>> 28).toString(16);
    }
    return out;
  };
  return Array.from({ length: count }, (_, k) => {
    const user = `user-${String(Math.floor(k / SESSIONS_PER_USER) + 1).padStart(5, '0')}`;
    return `uploads/${user}/${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}.session.json`;
  });
}
