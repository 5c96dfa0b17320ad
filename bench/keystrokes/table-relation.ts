// A pipeline table as one DuckDB relation for the benches: the literal list of its part files
// (docs/data-tables.md), or the single file of the layout before parts.
import { readParts, tableParts } from '../../stages/shared/parts.js';

export function tableRelation(workspace: string, table: string): string {
  const listed = tableParts(workspace, table);
  if (!listed.ok) throw new Error(listed.error);
  return readParts(listed.parts);
}
