import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { repoPath } from '../../../src/toolchain/paths';

// The shape of src/'s TypeScript imports: no circles, and nothing against the flow
// (common ← toolchain, lab; within the toolchain bundle ← build ← run).

const SRC = repoPath('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), base].find(f => f.startsWith(SRC) && /\.tsx?$/.test(f) && existsSync(f));
}

/** Every file's imports of other files of src/ (import, import type, export ... from, import()). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imported = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles;
    graph.set(file, [...new Set(imported.map(i => resolve(file, i.fileName)).filter((f): f is string => f !== undefined))]);
  }
  return graph;
}

const rel = (file: string) => path.relative(SRC, file);

/** One cycle of each strongly connected component with more than one file (Tarjan), as file lists. */
export function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(component.map(rel).sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

/** Folders (under src/) that a folder must not import, directly or through other files. */
const FORBIDDEN: [string, string[]][] = [
  ['common', ['toolchain', 'lab']],
  ['lab', ['toolchain']],
  ['toolchain/bundle', ['toolchain/build', 'toolchain/run']],
  ['toolchain/build', ['toolchain/run']]
];

const inFolder = (file: string, folder: string) => rel(file) === folder || rel(file).startsWith(`${folder}/`);

/** Each forbidden import, as "from → ... → to" (the shortest chain). */
export function againstTheFlow(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, banned] of FORBIDDEN) {
    for (const start of [...graph.keys()].filter(f => inFolder(f, from))) {
      const parent = new Map<string, string>([[start, start]]);
      const queue = [start];
      while (queue.length > 0) {
        const v = queue.shift()!;
        for (const w of graph.get(v) ?? []) {
          if (parent.has(w)) continue;
          parent.set(w, v);
          if (banned.some(b => inFolder(w, b))) {
            const chain = [w];
            for (let u = v; u !== start; u = parent.get(u)!) chain.unshift(u);
            found.push([start, ...chain].map(rel).join(' → '));
            continue;
          }
          queue.push(w);
        }
      }
    }
  }
  return found;
}

describe('the import shape of src/', () => {
  const graph = importGraph();

  it('reads the imports (a sanity check of the parser)', () => {
    expect(graph.get(path.join(SRC, 'toolchain', 'cli.ts'))).toContain(path.join(SRC, 'toolchain', 'commands', 'index.ts'));
    expect(graph.size).toBeGreaterThan(100);
  });

  it('has no import circles', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('has no import against the flow', () => {
    expect(againstTheFlow(graph)).toEqual([]);
  });

  it('finds a circle and a forbidden import when there is one', () => {
    const a = path.join(SRC, 'toolchain', 'bundle', 'a.ts');
    const b = path.join(SRC, 'toolchain', 'build', 'b.ts');
    const made = new Map([[a, [b]], [b, [a]]]);
    expect(importCircles(made)).toEqual([['toolchain/build/b.ts', 'toolchain/bundle/a.ts']]);
    expect(againstTheFlow(made)).toEqual(['toolchain/bundle/a.ts → toolchain/build/b.ts']);
  });
});
