// The diagnostic printer, in process: each expectation is written out by hand from the rule in
// lib/pipeline/diagnostics.ts (marker `^` at the start column, `~` to the end of the range on that line).
import { describe, expect, it } from 'vitest';
import { error, formatDiagnostic, warning } from '../lib/pipeline/diagnostics.js';
import type { SourceFile } from '../lib/pipeline/diagnostics.js';

/** A range from 1-based line/column and a length, with the offset computed from the text. */
function range(file: SourceFile, line: number, column: number, length: number) {
  const starts = [0];
  for (let i = 0; i < file.text.length; i++) if (file.text[i] === '\n') starts.push(i + 1);
  return { offset: starts[line - 1]! + column - 1, length, line, column };
}

describe('formatDiagnostic', () => {
  const file: SourceFile = {
    path: 'pipeline.yaml',
    text: 'stages:\n  clean:\n    cmd: x\r\n\tdesc: "a\n  b"\nlast',
  };

  it('marks the range under its line, cut at the end of a line it runs past', () => {
    const d = error(file, range(file, 2, 3, 40), 'too long', 'shorten it');
    expect(formatDiagnostic(d)).toBe(
      [
        'pipeline.yaml:2:3: error: too long',
        '    2 |   clean:',
        '      |   ^~~~~~',
        '  fix: shorten it',
        '',
      ].join('\n'),
    );
  });

  it('keeps tabs in the padding, drops a CR, and marks a zero-length range with one caret', () => {
    expect(formatDiagnostic(error(file, range(file, 4, 8, 4), 'tabbed', undefined))).toBe(
      ['pipeline.yaml:4:8: error: tabbed', '    4 | \tdesc: "a', '      | \t      ^~', ''].join(
        '\n',
      ),
    );
    expect(formatDiagnostic(error(file, range(file, 3, 10, 0), 'empty', undefined))).toBe(
      ['pipeline.yaml:3:10: error: empty', '    3 |     cmd: x', '      |          ^', ''].join(
        '\n',
      ),
    );
  });

  it('indents every line of a hint, and prints notes with their own place', () => {
    const d = error(file, range(file, 6, 1, 4), 'at the end', 'first line\nsecond line', [
      { message: 'see here', file, range: range(file, 1, 1, 6) },
    ]);
    expect(formatDiagnostic(d)).toBe(
      [
        'pipeline.yaml:6:1: error: at the end',
        '    6 | last',
        '      | ^~~~',
        '  fix: first line',
        '       second line',
        '  pipeline.yaml:1:1: note: see here',
        '      1 | stages:',
        '        | ^~~~~~',
        '',
      ].join('\n'),
    );
  });

  it('a problem without a file, and a warning', () => {
    expect(formatDiagnostic(error(undefined, undefined, 'no pipeline.yaml', 'start one'))).toBe(
      'pipe: error: no pipeline.yaml\n  fix: start one\n',
    );
    expect(formatDiagnostic(warning(file, undefined, 'odd', undefined))).toBe(
      'pipeline.yaml: warning: odd\n',
    );
  });
});
