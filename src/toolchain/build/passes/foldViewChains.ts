import { cloneGraph, freshName, GraphIndex, pruneTensors } from '../graphIndex';
import { IrGraph, IrNode, Provenance } from '../ir';
import { isIdentityPerm, numel, permute } from '../shape';

export type ViewOp = { kind: 'transpose'; perm: number[] } | { kind: 'reshape'; shape: number[] };

const MAX_TRANSPOSE_RANK = 6;

/**
 * A chain of reshapes and transposes as one movement of bytes: the source viewed as a
 * tensor of `atoms` (sizes, in source memory order), transposed by `perm`. Every reshape
 * splits atoms where it must; undefined when a split does not divide evenly.
 */
export function composeViews(inShape: number[], ops: ViewOp[]): { atoms: number[]; perm: number[] } | undefined {
  const size = new Map<number, number>();
  let nextId = 0;
  const atom = (s: number) => {
    size.set(nextId, s);
    return nextId++;
  };
  // Atoms in source memory order, and each current dim as a list of atoms (size-1 dims hold none).
  const canonical: number[] = [];
  let dims: number[][] = inShape.map(s => (s === 1 ? [] : [atom(s)]));
  canonical.push(...dims.flat());

  for (const op of ops) {
    if (op.kind === 'transpose') {
      dims = op.perm.map(p => dims[p]);
      continue;
    }
    const flat = dims.flat();
    const next: number[][] = [];
    let k = 0;
    for (const target of op.shape) {
      const group: number[] = [];
      let need = target;
      while (need > 1) {
        const a = flat[k];
        const s = size.get(a)!;
        if (s <= need) {
          if (need % s !== 0) return undefined;
          group.push(a);
          need /= s;
          k++;
          continue;
        }
        if (s % need !== 0) return undefined;
        const major = atom(need);
        const minor = atom(s / need);
        canonical.splice(canonical.indexOf(a), 1, major, minor);
        flat.splice(k, 1, major, minor);
        group.push(major);
        need = 1;
        k++;
      }
      next.push(group);
    }
    dims = next;
  }

  // Runs of atoms adjacent in both orders move together: merge them.
  const order = dims.flat().map(a => canonical.indexOf(a));
  const runs: number[][] = [];
  for (const index of order) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === index) last.push(index);
    else runs.push([index]);
  }
  const sorted = [...runs].sort((a, b) => a[0] - b[0]);
  return {
    atoms: sorted.map(run => run.reduce((p, i) => p * size.get(canonical[i])!, 1)),
    perm: runs.map(run => sorted.indexOf(run))
  };
}

function viewOp(node: IrNode): ViewOp | undefined {
  if (node.op === 'transpose') return { kind: 'transpose', perm: node.attrs.perm };
  if (node.op === 'reshape') return { kind: 'reshape', shape: node.attrs.shape };
  return undefined;
}

/**
 * Replaces each chain of reshapes and transposes that holds two or more transposes (such as
 * the NHWC→NCHW, permute, NCHW→NHWC of a channel shuffle) by a single transpose between
 * free re-views, when the composed movement fits the transpose kernel.
 */
export function foldViewChains(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  const index = new GraphIndex(g);
  const replaced = new Map<IrNode, IrNode[]>();
  const inChain = new Set<IrNode>();

  for (const head of g.nodes) {
    if (inChain.has(head) || !viewOp(head)) continue;
    const chain = [head];
    for (;;) {
      const out = chain[chain.length - 1].outputs[0];
      const next = index.soleConsumer(out);
      if (!next || !viewOp(next)) break;
      chain.push(next);
    }
    chain.forEach(n => inChain.add(n));
    if (chain.filter(n => n.op === 'transpose').length < 2) continue;

    const x = head.inputs[0];
    const y = chain[chain.length - 1].outputs[0];
    const composed = composeViews(index.tensor(x).shape, chain.map(n => viewOp(n)!));
    if (!composed || composed.atoms.length > MAX_TRANSPOSE_RANK) continue;

    const from: Provenance = {
      name: `${head.name}:folded`,
      module: (chain.find(n => n.op === 'transpose' && !n.frameworkOps.includes('edgespec.layout')) ?? head).module,
      frameworkOps: [...new Set(chain.flatMap(n => n.frameworkOps))]
    };
    const yShape = index.tensor(y).shape;
    const nodes: IrNode[] = [];
    if (isIdentityPerm(composed.perm)) {
      nodes.push({ ...from, op: 'reshape', inputs: [x], outputs: [y], attrs: { shape: [...yShape] } });
    } else {
      const viewIn = freshName(g, `${x}:atoms`);
      g.tensors.set(viewIn, { name: viewIn, shape: composed.atoms, role: 'activation', layout: 'plain' });
      const movedShape = permute(composed.atoms, composed.perm);
      const viewOut = freshName(g, `${y}:atoms`);
      g.tensors.set(viewOut, { name: viewOut, shape: movedShape, role: 'activation', layout: 'plain' });
      nodes.push(
        { ...from, name: `${from.name}:in`, op: 'reshape', inputs: [x], outputs: [viewIn], attrs: { shape: composed.atoms } },
        { ...from, op: 'transpose', inputs: [viewIn], outputs: [viewOut], attrs: { perm: composed.perm } },
        { ...from, name: `${from.name}:out`, op: 'reshape', inputs: [viewOut], outputs: [y], attrs: { shape: [...yShape] } }
      );
    }
    if (numel(composed.atoms) !== numel(yShape)) throw new Error(`internal: folding the view chain at ${head.name} changed the element count`);
    replaced.set(chain[chain.length - 1], nodes);
    chain.slice(0, -1).forEach(n => replaced.set(n, []));
  }

  g.nodes = g.nodes.flatMap(n => replaced.get(n) ?? [n]);
  pruneTensors(g);
  return g;
}
