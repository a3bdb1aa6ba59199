/**
 * The footprint tree as the views use it: one side (flash or RAM) at a time, groups whose
 * bytes are the sum of their children, ids for selection, search and the table rows.
 * Pure, no DOM.
 */
import type { Footprint, FootprintKind, FootprintNode } from '../types';

/** `overhead` is flash without the weights: what the image adds around the model. */
export type Side = 'flash' | 'overhead' | 'ram';

export const SIDES: Side[] = ['flash', 'overhead', 'ram'];

export const SIDE_LABELS: Record<Side, string> = {
  flash: 'Flash (image file)',
  overhead: 'Flash − weights',
  ram: 'RAM (run time)'
};

/** Kinds in display order, each with what it means. */
export const KINDS: { kind: FootprintKind; label: string }[] = [
  { kind: 'weights', label: 'weights: the model parameters, in the image' },
  { kind: 'code', label: 'code: machine instructions (.text)' },
  { kind: 'rodata', label: 'rodata: constants and tables' },
  { kind: 'data', label: 'data: initialised variables' },
  { kind: 'bss', label: 'bss: zero-initialised variables' },
  { kind: 'arena', label: 'arena: activations, planned statically' },
  { kind: 'stack', label: 'stack' }
];

/**
 * What a byte belongs to, coarsely: the colour of the chart by default. From the leaf's
 * `source` (`layer:<module>` → weights, `kernel:<file>` → kernels, else the source itself).
 */
export type Family = 'weights' | 'kernels' | 'model' | 'platform' | 'libc' | 'libm' | 'libgcc' | 'elf' | 'other';

export const FAMILIES: { family: Family; label: string }[] = [
  { family: 'weights', label: 'weights: the model parameters, per layer' },
  { family: 'kernels', label: 'kernels: the op implementations this model uses' },
  { family: 'model', label: 'model: the generated schedule and its arena' },
  { family: 'platform', label: 'platform: boot, exceptions, console, stack' },
  { family: 'libc', label: 'libc (picolibc)' },
  { family: 'libm', label: 'libm' },
  { family: 'libgcc', label: 'libgcc: compiler runtime helpers' },
  { family: 'elf', label: 'elf: headers, section table, padding' },
  { family: 'other', label: 'other or unattributed' }
];

export function sourceFamily(source: string | undefined): Family {
  if (!source) {
    return 'other';
  }
  if (source.startsWith('layer:')) {
    return 'weights';
  }
  if (source.startsWith('kernel:')) {
    return 'kernels';
  }
  const known: Family[] = ['model', 'platform', 'libc', 'libm', 'libgcc', 'elf'];
  return known.find(family => source === family || source.startsWith(`${family}:`)) ?? 'other';
}

/** Name of the leaf that holds bytes a group declares beyond the sum of its children. */
export const UNATTRIBUTED = '(unattributed)';
export const NO_SOURCE = '(no source)';

export interface FootprintItem {
  /** Index path from the side root, e.g. "2/0/5"; "" for the side root itself. */
  id: string;
  name: string;
  /** Names from below the side root down to this item. */
  path: string[];
  bytes: number;
  /** A leaf's kind; for a group the kind holding most of its bytes. */
  kind?: FootprintKind;
  source?: string;
  /** A leaf's source family; for a group the family holding most of its bytes. */
  family: Family;
  children: FootprintItem[];
  depth: number;
}

export function findSide(footprint: Footprint, side: 'flash' | 'ram'): FootprintNode | undefined {
  return footprint.tree.children?.find(child => child.name.toLowerCase() === side);
}

/** The side's tree, normalised; an empty root when the footprint has no such side. */
export function buildSideTree(footprint: Footprint, side: Side): FootprintItem {
  const part = side === 'ram' ? 'ram' : 'flash';
  const node = findSide(footprint, part) ?? { name: part, bytes: 0, children: [] };
  const tree = normalise(node, '', [], 0);
  return side === 'overhead' ? withoutKind(tree, 'weights') : tree;
}

/** The tree without the leaves of one kind; groups left empty go too; ids are renumbered. */
export function withoutKind(root: FootprintItem, kind: FootprintKind): FootprintItem {
  const prune = (item: FootprintItem): FootprintNode | null => {
    if (item.children.length === 0) {
      return item.kind === kind ? null : toNode(item);
    }
    const children = item.children.map(prune).filter((child): child is FootprintNode => child !== null);
    if (children.length === 0) {
      return null;
    }
    return { name: item.name, bytes: children.reduce((sum, child) => sum + child.bytes, 0), children };
  };
  const pruned = prune(root) ?? { name: root.name, bytes: 0, children: [] };
  return normalise(pruned, '', [], 0);
}

function toNode(item: FootprintItem): FootprintNode {
  const node: FootprintNode = { name: item.name, bytes: item.bytes };
  if (item.kind !== undefined) {
    node.kind = item.kind;
  }
  if (item.source !== undefined) {
    node.source = item.source;
  }
  return node;
}

function normalise(node: FootprintNode, id: string, path: string[], depth: number): FootprintItem {
  const children = (node.children ?? []).map((child, index) =>
    normalise(child, id === '' ? String(index) : `${id}/${index}`, [...path, child.name], depth + 1)
  );
  const item: FootprintItem = { id, name: node.name, path, bytes: node.bytes, children, depth, family: sourceFamily(node.source) };
  if (node.source !== undefined) {
    item.source = node.source;
  }
  if (children.length === 0) {
    if (node.kind !== undefined) {
      item.kind = node.kind;
    }
    return item;
  }
  const childSum = children.reduce((sum, child) => sum + child.bytes, 0);
  if (node.bytes > childSum) {
    children.push({
      id: `${id === '' ? '' : id + '/'}${children.length}`,
      name: UNATTRIBUTED,
      path: [...path, UNATTRIBUTED],
      bytes: node.bytes - childSum,
      children: [],
      depth: depth + 1,
      family: sourceFamily(node.source),
      ...(node.kind !== undefined ? { kind: node.kind } : {}),
      ...(node.source !== undefined ? { source: node.source } : {})
    });
  }
  item.bytes = Math.max(node.bytes, childSum);
  const kind = dominant(children, child => child.kind);
  if (kind !== undefined) {
    item.kind = kind;
  }
  item.family = dominant(children, child => child.family) ?? 'other';
  return item;
}

/** The value of `key` that holds most bytes among the children (ties: the first met). */
function dominant<T>(children: FootprintItem[], key: (child: FootprintItem) => T | undefined): T | undefined {
  const bytesBy = new Map<T, number>();
  for (const child of children) {
    const value = key(child);
    if (value !== undefined) {
      bytesBy.set(value, (bytesBy.get(value) ?? 0) + child.bytes);
    }
  }
  let best: T | undefined;
  let bestBytes = -1;
  for (const [value, bytes] of bytesBy) {
    if (bytes > bestBytes) {
      best = value;
      bestBytes = bytes;
    }
  }
  return best;
}

export function* walk(item: FootprintItem): Generator<FootprintItem> {
  yield item;
  for (const child of item.children) {
    yield* walk(child);
  }
}

export function leaves(item: FootprintItem): FootprintItem[] {
  return [...walk(item)].filter(node => node.children.length === 0);
}

export function findById(root: FootprintItem, id: string): FootprintItem | undefined {
  if (id === '') {
    return root;
  }
  let current: FootprintItem | undefined = root;
  for (const index of id.split('/')) {
    current = current?.children[Number(index)];
  }
  return current;
}

/** The chain root → item, for breadcrumbs. */
export function ancestry(root: FootprintItem, id: string): FootprintItem[] {
  const chain = [root];
  if (id === '') {
    return chain;
  }
  let current = root;
  for (const index of id.split('/')) {
    const next = current.children[Number(index)];
    if (next === undefined) {
      break;
    }
    chain.push(next);
    current = next;
  }
  return chain;
}

/** The text a search term is matched against: path, source, kind and family. */
function searchText(item: FootprintItem): string {
  return [item.path.join('/'), item.source ?? '', item.kind ?? '', item.family].join(' ').toLowerCase();
}

function searchTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(term => term.length > 0);
}

export interface SearchResult {
  /** Items whose own text holds every term. */
  matched: Set<string>;
  /** Matched items, their ancestors and their descendants: what stays lit in the chart. */
  lit: Set<string>;
  /** Bytes of the matched leaves (each leaf counted once). */
  bytes: number;
}

/** Whitespace-separated terms, all required, case-insensitive; null for an empty query. */
export function searchTree(root: FootprintItem, query: string): SearchResult | null {
  const terms = searchTerms(query);
  if (terms.length === 0) {
    return null;
  }
  const matched = new Set<string>();
  const lit = new Set<string>();
  let bytes = 0;
  const visit = (item: FootprintItem, chain: FootprintItem[], underMatch: boolean): void => {
    const text = searchText(item);
    const isMatch = item.id !== '' && terms.every(term => text.includes(term));
    if (isMatch) {
      matched.add(item.id);
      chain.forEach(ancestor => lit.add(ancestor.id));
    }
    const lightsUp = isMatch || underMatch;
    if (lightsUp) {
      lit.add(item.id);
      if (item.children.length === 0) {
        bytes += item.bytes;
      }
    }
    item.children.forEach(child => visit(child, [...chain, item], lightsUp));
  };
  visit(root, [], false);
  return { matched, lit, bytes };
}

export interface TableRow {
  id: string;
  name: string;
  /** The path above the item, joined with " › ". */
  where: string;
  kind?: FootprintKind;
  family: Family;
  source: string;
  bytes: number;
  share: string;
}

/**
 * Leaves under `scopeId` (the zoomed item), matching the query when there is one, biggest
 * first. `share` is relative to the whole side.
 */
export function tableRows(
  root: FootprintItem,
  scopeId: string,
  query: string,
  formatShare: (part: number, whole: number) => string
): TableRow[] {
  const scope = findById(root, scopeId) ?? root;
  const search = searchTree(root, query);
  return leaves(scope)
    .filter(item => search === null || search.lit.has(item.id))
    .sort((a, b) => b.bytes - a.bytes || a.id.localeCompare(b.id))
    .map(item => {
      const row: TableRow = {
        id: item.id,
        name: item.name,
        where: item.path.slice(0, -1).join(' › '),
        source: item.source ?? NO_SOURCE,
        family: item.family,
        bytes: item.bytes,
        share: formatShare(item.bytes, root.bytes)
      };
      if (item.kind !== undefined) {
        row.kind = item.kind;
      }
      return row;
    });
}

/** Bytes per leaf source, biggest first. */
export function bytesBySource(root: FootprintItem): { source: string; bytes: number }[] {
  return sumBy(root, item => item.source ?? NO_SOURCE).map(([source, bytes]) => ({ source, bytes }));
}

/** Bytes per source family, biggest first. */
export function bytesByFamily(root: FootprintItem): { family: Family; bytes: number }[] {
  return sumBy(root, item => item.family).map(([family, bytes]) => ({ family: family as Family, bytes }));
}

/** Bytes per leaf kind, biggest first. */
export function bytesByKind(root: FootprintItem): { kind: string; bytes: number }[] {
  return sumBy(root, item => item.kind ?? 'other').map(([kind, bytes]) => ({ kind, bytes }));
}

function sumBy(root: FootprintItem, key: (item: FootprintItem) => string): [string, number][] {
  const sums = new Map<string, number>();
  for (const leaf of leaves(root)) {
    const name = key(leaf);
    sums.set(name, (sums.get(name) ?? 0) + leaf.bytes);
  }
  return [...sums].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
