import { readFileSync } from 'fs';
import { renderOpsTable } from '../../../src/toolchain/ops/emitOpsTable';
import { loadOpVocabulary } from '../../../src/toolchain/ops/vocabulary';
import { repoFiles } from '../../../src/toolchain/paths';

describe('docs/ops.md', () => {
  it('is what src/common/ops.json renders to', () => {
    const rendered = renderOpsTable(loadOpVocabulary());
    let inTree = '';
    try {
      inTree = readFileSync(repoFiles.opsDoc, 'utf8');
    } catch {
      // compared below, with the fix in the message
    }
    if (inTree !== rendered) {
      throw new Error('docs/ops.md is out of date with src/common/ops.json: run `npm run build:toolchain && npm run docs:ops` and keep the result');
    }
  });

  it('has one table row per op, with every column filled', () => {
    const vocabulary = loadOpVocabulary();
    const lines = renderOpsTable(vocabulary).split('\n');
    const header = lines.find(line => line.startsWith('| op |'))!;
    expect(header).toMatch(/\| exact semantics \|.*\| PyTorch ops mapped \|/);
    const columns = header.split(' | ').length;
    const rows = lines.filter(line => /^\| `/.test(line));
    expect(rows.map(r => r.match(/^\| `([a-z0-9_]+)`/)![1])).toEqual(vocabulary.ops.map(o => o.op));
    for (const row of rows) {
      const cells = row.slice(2, -2).split(/ (?<!\\)\| /);
      expect(cells).toHaveLength(columns);
      expect(cells.every(c => c.trim() !== '')).toBe(true);
    }
  });

  it('shows formulas literally: no markdown emphasis from * or _', () => {
    const conv = renderOpsTable(loadOpVocabulary()).split('\n').find(l => l.startsWith('| `conv2d`'))!;
    expect(conv).toContain('h\\*stride[0]');
    expect(conv).toContain('`weight_layout`: OIHW \\| OHWI');
  });
});
