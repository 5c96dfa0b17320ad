// A bound on how much YAML aliases may expand, checked on the parsed tree before anything
// converts it to plain values. Nine anchors of nine aliases each ("billion laughs") are 400
// bytes of text and 9^9 values once expanded: converting that would exhaust memory, so the text
// is refused at the alias where the expansion passes the budget, as a located error.
//
// Only what aliases add counts: a long list written out in full costs its own bytes already.
import { isAlias, isCollection, isPair, isScalar } from 'yaml';
import type { Document, Node } from 'yaml';

/**
 * Values all aliases of one file may stand for together. 10,000: a pipeline shares a few lists
 * of deps or a block of params this way (tens of values); a bomb needs millions.
 */
export const ALIAS_BUDGET = 10_000;

/** The first alias at which the document's aliases expand past `budget`, if any. */
export function aliasOverBudget(doc: Document.Parsed, budget: number): Node | undefined {
  const sizes = new Map<unknown, number>();
  const resolving = new Set<unknown>();
  let expanded = 0;
  let culprit: Node | undefined;

  /** How many values `node` stands for with every alias in it expanded (memoised per node). */
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      // An alias to a collection that holds it would expand forever.
      if (target === undefined || resolving.has(target)) return Number.POSITIVE_INFINITY;
      return sizeOf(target);
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let size = 1;
    if (isCollection(node)) {
      resolving.add(node);
      for (const item of node.items) {
        size += isPair(item) ? sizeOf(item.key) + sizeOf(item.value) : sizeOf(item);
        if (size > budget) break; // no need to count further: it is over already
      }
      resolving.delete(node);
    } else if (!isScalar(node)) size = 0; // null (an empty value)
    sizes.set(node, size);
    return size;
  };

  /** Walks the tree as written, adding what each alias stands for, until over budget. */
  const walk = (node: unknown): void => {
    if (culprit !== undefined) return;
    if (isAlias(node)) {
      expanded += sizeOf(node);
      if (expanded > budget) culprit = node as Node;
      return;
    }
    if (!isCollection(node)) return;
    for (const item of node.items) {
      if (isPair(item)) {
        walk(item.key);
        walk(item.value);
      } else walk(item);
    }
  };
  walk(doc.contents);
  return culprit;
}
