import { EdgespecError } from '../errors';

/** A node the build cannot map onto a kernel, and why. */
export interface Unsupported {
  node: string;
  op: string;
  module: string;
  reason: string;
}

/** Lists every unsupported node in one error, grouped by op. */
export function unsupportedError(items: Unsupported[], target: string): EdgespecError {
  const byOp = new Map<string, Unsupported[]>();
  for (const item of items) byOp.set(item.op, [...(byOp.get(item.op) ?? []), item]);
  const lines = [...byOp.entries()].map(([op, list]) => {
    const examples = list.slice(0, 3).map(u => `${u.node}${u.module ? ` (${u.module})` : ''}`).join(', ');
    const more = list.length > 3 ? `, and ${list.length - 3} more` : '';
    return `  ${op}: ${list.length} node${list.length > 1 ? 's' : ''}, ${list[0].reason}: ${examples}${more}`;
  });
  return new EdgespecError(
    'unsupported-ops',
    `the model uses ${byOp.size} op${byOp.size > 1 ? 's' : ''} that target ${target} cannot run:\n${lines.join('\n')}`,
    'replace these layers in the model (see src/common/ops.json for the supported ops and their attributes), or add a kernel for them in kernels/',
    { unsupported: items }
  );
}
