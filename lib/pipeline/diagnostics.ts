// A problem in a user's file, located to the character, and its printer:
//
//   pipeline.yaml:7:5: error: stage "clean" has an unknown key "dep"
//       7 |     dep: [data/raw]
//         |     ^~~
//     fix: did you mean "deps"? A stage takes cmd, deps, outs, params, env, desc.
//
// The printer is pure: a Diagnostic carries the text of its file, so printing reads nothing.
import type { SourceRange } from '../graph/stage.js';

/** A file as read, shown in messages by `path` (workspace-relative, POSIX). */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** A second place that explains the first (the other stage that owns an out, a cycle's edge). */
export interface DiagnosticNote {
  readonly message: string;
  readonly file: SourceFile;
  readonly range: SourceRange;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  /** Undefined only when the problem has no file (pipeline.yaml is missing). */
  readonly file: SourceFile | undefined;
  readonly range: SourceRange | undefined;
  readonly message: string;
  /** What to do about it, one or more lines. */
  readonly hint: string | undefined;
  readonly notes?: readonly DiagnosticNote[];
}

export function error(
  file: SourceFile | undefined,
  range: SourceRange | undefined,
  message: string,
  hint?: string,
  notes?: readonly DiagnosticNote[],
): Diagnostic {
  return {
    severity: 'error',
    file,
    range,
    message,
    hint,
    ...(notes === undefined ? {} : { notes }),
  };
}

export function warning(
  file: SourceFile | undefined,
  range: SourceRange | undefined,
  message: string,
  hint?: string,
): Diagnostic {
  return { severity: 'warning', file, range, message, hint };
}

/** Orders diagnostics as an editor lists them: by file, then position. Stable for equal places. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.file?.path ?? '').localeCompare(b.file?.path ?? '') ||
      (a.range?.offset ?? -1) - (b.range?.offset ?? -1),
  );
}

export function formatDiagnostic(d: Diagnostic): string {
  const lines: string[] = [];
  lines.push(`${place(d.file, d.range)}${d.severity}: ${d.message}`);
  if (d.file !== undefined && d.range !== undefined)
    lines.push(...snippet(d.file, d.range, '    '));
  if (d.hint !== undefined) {
    const [first, ...rest] = d.hint.split('\n');
    lines.push(`  fix: ${first}`, ...rest.map((line) => `       ${line}`));
  }
  for (const note of d.notes ?? []) {
    lines.push(`  ${place(note.file, note.range)}note: ${note.message}`);
    lines.push(...snippet(note.file, note.range, '      '));
  }
  return `${lines.join('\n')}\n`;
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('');
}

function place(file: SourceFile | undefined, range: SourceRange | undefined): string {
  if (file === undefined) return 'pipe: ';
  if (range === undefined) return `${file.path}: `;
  return `${file.path}:${range.line}:${range.column}: `;
}

/**
 * The source line and a marker under the range: `^` at its start, `~` to its end, cut at the end
 * of the line when the range spans lines. Tabs in the line are kept in the padding so the marker
 * lines up in any terminal.
 */
function snippet(file: SourceFile, range: SourceRange, indent: string): string[] {
  const lineStart = range.offset - (range.column - 1);
  let lineEnd = file.text.indexOf('\n', lineStart);
  if (lineEnd === -1) lineEnd = file.text.length;
  const source = file.text.slice(lineStart, lineEnd).replace(/\r$/, '');
  const start = Math.min(range.column - 1, source.length);
  const width = Math.max(1, Math.min(range.length, source.length - start));
  const pad = source.slice(0, start).replace(/[^\t]/g, ' ');
  const gutter = String(range.line);
  return [
    `${indent}${gutter} | ${source}`.trimEnd(),
    `${indent}${' '.repeat(gutter.length)} | ${pad}^${'~'.repeat(width - 1)}`,
  ];
}
