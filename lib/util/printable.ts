// Text from a remote (notes, who pushed, stage names, file paths) is untrusted: printed raw, an
// escape sequence in it could rewrite the terminal (move the cursor, hide a line, set the title,
// or fake a "pulled ok"). Every such text goes through printable() before it reaches a terminal.

/**
 * C0 and C1 controls, DEL, and the Unicode characters that reorder or hide text (bidi overrides
 * and isolates, zero-width joiners, line/paragraph separators, BOM).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/** `text` with every control or reordering character shown as `\xNN` / `\uNNNN`, visibly. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
