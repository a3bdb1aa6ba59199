import { renameSync, writeFileSync } from 'fs';
import { FRAMEWORKS, loadOpVocabulary, OpSpec, OpVocabulary } from './vocabulary';

/**
 * docs/ops.md, rendered from src/common/ops.json (`npm run docs:ops`). A test checks that
 * the file in the tree is what this renders, so edit ops.json and regenerate.
 */
export function renderOpsTable(vocabulary: OpVocabulary): string {
  // A framework gets a column once some op maps from it.
  const frameworks = FRAMEWORKS.filter(f => vocabulary.ops.some(op => (op[f.key] ?? []).length > 0));
  const header = ['op', 'category', 'exact semantics', 'inputs', 'attrs', 'dtypes', 'targets', ...frameworks.map(f => `${f.title} ops mapped`)];
  const lines = [
    '# The edgespec op vocabulary',
    '',
    `<!-- Generated from src/common/ops.json (format ${vocabulary.format} version ${vocabulary.version}) by \`npm run docs:ops\`. Do not edit by hand. -->`,
    '',
    `Every node of a bundle's graph.json uses one of these ${vocabulary.ops.length} ops. Capture maps framework ops onto them, the kernels in kernels/ implement them, and the targets column says where each runs.`,
    '',
    '## Conventions',
    '',
    prose(vocabulary.conventions),
    '',
    '## Ops',
    '',
    row(header),
    row(header.map(() => '---')),
    ...vocabulary.ops.map(op => row([...opCells(op), ...frameworks.map(f => frameworkOps(op[f.key]))])),
    '',
    '## Removed ops',
    '',
    `${capitalize(vocabulary.removed.semantics)}:`,
    '',
    ...FRAMEWORKS.filter(f => (vocabulary.removed[f.key] ?? []).length > 0).map(f => `- ${f.title}: ${vocabulary.removed[f.key]!.map(p => `\`${p}\``).join(', ')}`),
    ''
  ];
  return lines.join('\n');
}

function opCells(op: OpSpec): string[] {
  const semantics = op.notes ? `${prose(op.semantics)}<br>*Note:* ${prose(op.notes)}` : prose(op.semantics);
  const attrs = Object.entries(op.attrs).map(([name, type]) => `\`${name}\`: ${prose(type)}`);
  return [
    `\`${op.op}\``,
    op.category,
    semantics,
    op.inputs.map(prose).join('<br>'),
    attrs.length > 0 ? attrs.join('<br>') : '—',
    op.dtypes.join(', '),
    op.targets.join(', ')
  ];
}

function frameworkOps(entries: string[] | undefined): string {
  return entries && entries.length > 0 ? entries.map(p => `\`${p}\``).join('<br>') : '—';
}

function row(cells: string[]): string {
  return `| ${cells.map(escapeCell).join(' | ')} |`;
}

/** Text from ops.json shown as written: `*` and `_` in formulas are not emphasis (code spans are left alone). */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map(part => (part.startsWith('`') ? part : part.replace(/[*_<>]/g, c => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`))))
    .join('');
}

/** A pipe inside a cell would end it, also inside backticks. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `node emitOpsTable.js` prints the table; `node emitOpsTable.js FILE` replaces FILE whole (write, then rename). */
if (require.main === module) {
  const markdown = renderOpsTable(loadOpVocabulary());
  const target = process.argv[2];
  if (target) {
    const temporary = `${target}.tmp-${process.pid}`;
    writeFileSync(temporary, markdown);
    renameSync(temporary, target);
  } else {
    process.stdout.write(markdown);
  }
}
