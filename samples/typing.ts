// The typing model behind the sample generator: a seeded random source, a US keyboard map, and
// per-user rhythm (hold and press-to-press times drawn per user), so every generated session is
// reproducible from (seed, user, session). Knows nothing of faults or file formats.

/** mulberry32: a tiny, well-known 32-bit PRNG; good enough for test data, and seedable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal draw with the given median and spread (sigma of the log): typing times are skewed. */
export function logNormal(random: () => number, median: number, sigma: number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * normal);
}

export interface Key {
  readonly key: string;
  readonly code: string;
  readonly keyCode: number;
}

export const SHIFT: Key = { key: 'Shift', code: 'ShiftLeft', keyCode: 16 };
export const BACKSPACE: Key = { key: 'Backspace', code: 'Backspace', keyCode: 8 };

const PUNCTUATION: Record<string, [code: string, keyCode: number, shifted: boolean]> = {
  ' ': ['Space', 32, false],
  ',': ['Comma', 188, false],
  '.': ['Period', 190, false],
  "'": ['Quote', 222, false],
  '-': ['Minus', 189, false],
  '?': ['Slash', 191, true],
  '!': ['Digit1', 49, true],
  ':': ['Semicolon', 186, true],
  ';': ['Semicolon', 186, false],
};

/** The physical key for a character on a US layout, and whether Shift is needed. */
export function keyFor(char: string): { key: Key; shifted: boolean } {
  if (/^[a-z]$/.test(char))
    return {
      key: {
        key: char,
        code: `Key${char.toUpperCase()}`,
        keyCode: char.toUpperCase().charCodeAt(0),
      },
      shifted: false,
    };
  if (/^[A-Z]$/.test(char))
    return { key: { key: char, code: `Key${char}`, keyCode: char.charCodeAt(0) }, shifted: true };
  if (/^[0-9]$/.test(char))
    return {
      key: { key: char, code: `Digit${char}`, keyCode: char.charCodeAt(0) },
      shifted: false,
    };
  const p = PUNCTUATION[char];
  if (p === undefined)
    throw new Error(`the sample keyboard has no key for ${JSON.stringify(char)}`);
  return { key: { key: char, code: p[0], keyCode: p[1] }, shifted: p[2] };
}

/** One user's rhythm: medians in ms, drawn once per user so users differ (what TypeNet learns). */
export interface Rhythm {
  readonly holdMedian: number;
  readonly pressGapMedian: number;
  readonly sigma: number;
  /** Chance per character of a typo fixed with Backspace. */
  readonly typoRate: number;
}

export function drawRhythm(random: () => number): Rhythm {
  return {
    holdMedian: 70 + random() * 60,
    pressGapMedian: 120 + random() * 140,
    sigma: 0.25 + random() * 0.2,
    typoRate: 0.01 + random() * 0.04,
  };
}

/** A keystroke in ms since the page's time origin (fractional: browsers give 0.1 ms steps here). */
export interface Keystroke {
  readonly key: Key;
  readonly press: number;
  readonly release: number;
}

const tenth = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Types `text` starting at `start` ms: Shift around capitals, occasional typo + Backspace, and
 * rollover wherever a hold outlasts the next press gap (normal typing, about a fifth of pairs).
 * The same physical key is never pressed again before its release (it cannot be).
 */
export function typeText(
  text: string,
  rhythm: Rhythm,
  random: () => number,
  start: number,
): Keystroke[] {
  const strokes: Keystroke[] = [];
  let clock = start;
  const press = (key: Key, holdScale = 1): Keystroke => {
    const previousSame = [...strokes].reverse().find((s) => s.key.code === key.code);
    let at = clock + Math.max(25, logNormal(random, rhythm.pressGapMedian, rhythm.sigma));
    if (previousSame !== undefined && at <= previousSame.release + 5)
      at = previousSame.release + 5 + random() * 20;
    const hold = Math.min(
      900,
      Math.max(25, logNormal(random, rhythm.holdMedian, rhythm.sigma) * holdScale),
    );
    const stroke = { key, press: tenth(at), release: tenth(at + hold) };
    strokes.push(stroke);
    clock = at;
    return stroke;
  };
  for (const char of text) {
    if (random() < rhythm.typoRate && /[a-z]/.test(char)) {
      press(keyFor(String.fromCharCode(97 + Math.floor(random() * 26))).key);
      press(BACKSPACE);
    }
    const { key, shifted } = keyFor(char);
    if (shifted) {
      // Shift is held across the character: pressed before it, released after it.
      const shift = press(SHIFT, 2.5);
      const stroke = press(key);
      if (shift.release <= stroke.release)
        strokes[strokes.indexOf(shift)] = {
          ...shift,
          release: tenth(stroke.release + 15 + random() * 30),
        };
    } else {
      press(key);
    }
  }
  return strokes;
}
