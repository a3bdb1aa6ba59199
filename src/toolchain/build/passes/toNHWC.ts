import { irRuleOf } from '../../ops/registry';
import { LayoutContext } from '../../ops/opModule';
import { cloneGraph, freshName, pruneTensors } from '../graphIndex';
import { IrGraph, IrNode, IrTensor, MemoryLayout } from '../ir';
import { inversePerm, layoutChangeIsFree, permute, transposeData } from '../shape';

const TO_NHWC: readonly number[] = [0, 2, 3, 1];
const TO_NCHW: readonly number[] = [0, 3, 1, 2];

/**
 * Memory dim k of a tensor stored in layout `current` holds dim order[k] of the framework's
 * own (original) order.
 */
function memoryOrder(current: MemoryLayout, original: MemoryLayout, rank: number): number[] {
  if (rank !== 4 || current === original || current === 'plain' || original === 'plain') return [...Array(rank).keys()];
  return original === 'NCHW' ? [...TO_NHWC] : [...TO_NCHW];
}

/**
 * Rewrites the graph so that 4-D activations are NHWC in memory where the kernels want
 * them, and their attributes (axes, pads, perms) address memory dims.
 *
 * Each tensor keeps the layout its producer writes; a consumer that needs another layout
 * gets a conversion (a transpose, or a free re-view when C is 1 or H×W is 1x1), made once
 * and shared. Convolutions and pools read and write NHWC. Reshape, linear and matmul act on
 * the framework's row-major order, so they read their 4-D input in its original layout
 * (shufflenet's channel shuffle gets a transpose to NCHW and back). Transposes compose with
 * the layouts into one memory permutation. Graph inputs and outputs keep the bundle's
 * original layout: the image takes and returns the bytes the framework would.
 */
export function toNHWC(graph: IrGraph): IrGraph {
  return new LayoutRewriter(graph).run();
}

class LayoutRewriter implements LayoutContext {
  private readonly g: IrGraph;
  private readonly original = new Map<string, MemoryLayout>();
  private readonly nodes: IrNode[] = [];
  private readonly conversions = new Map<string, string>();

  constructor(graph: IrGraph) {
    this.g = cloneGraph(graph);
    for (const [name, t] of graph.tensors) this.original.set(name, t.layout);
  }

  /**
   * The layout of a layout-agnostic op: the one its inputs share, so nothing moves for it.
   * (Converting early to NHWC wherever the result flows into a convolution saves
   * shufflenet 26 of its 43 transposes, but makes its channel split and concat per-pixel
   * copies and its shuffle a 2-wide interleave: 2.6% more guest instructions, measured.)
   */
  agnosticLayout(inputs: string[]): MemoryLayout {
    return this.commonLayout(inputs);
  }

  run(): IrGraph {
    for (const node of this.g.nodes) {
      this.rewrite(node);
      this.nodes.push(node);
    }
    for (const io of this.g.outputs) {
      const converted = this.want(io.tensor, this.originalLayout(io.tensor), 'graph output');
      if (converted !== io.tensor) {
        this.tensor(io.tensor).role = 'activation';
        this.tensor(converted).role = 'output';
        io.tensor = converted;
      }
    }
    this.g.nodes = this.nodes;
    pruneTensors(this.g);
    return this.g;
  }

  tensor(name: string): IrTensor {
    return this.g.tensors.get(name)!;
  }

  originalLayout(name: string): MemoryLayout {
    return this.original.get(name) ?? this.tensor(name).layout;
  }

  is4d(name: string): boolean {
    return this.tensor(name).shape.length === 4 && this.tensor(name).layout !== 'plain';
  }

  memoryOrder(name: string, layout: MemoryLayout): number[] {
    return memoryOrder(layout, this.originalLayout(name), this.tensor(name).shape.length);
  }

  /** The memory dim that holds original dim `axis` of `name` once it is stored in `layout`. */
  memoryAxis(name: string, axis: number, layout: MemoryLayout): number {
    const rank = this.tensor(name).shape.length;
    return inversePerm(memoryOrder(layout, this.originalLayout(name), rank))[axis];
  }

  /** Puts a freshly produced tensor into `layout` (it is still in its original layout). */
  produce(name: string, layout: MemoryLayout): void {
    const t = this.tensor(name);
    if (t.shape.length !== 4 || t.layout === layout || layout === 'plain' || t.layout === 'plain') return;
    t.shape = permute(t.shape, layout === 'NHWC' ? TO_NHWC : TO_NCHW);
    t.layout = layout;
  }

  /** A tensor holding `name` in `layout`, converting it once if needed. */
  want(name: string, layout: MemoryLayout, module: string): string {
    const t = this.tensor(name);
    if (t.shape.length !== 4 || t.layout === layout || t.layout === 'plain' || layout === 'plain') return name;
    const key = `${name}@${layout}`;
    const cached = this.conversions.get(key);
    if (cached) return cached;
    const perm = layout === 'NHWC' ? TO_NHWC : TO_NCHW;
    const converted: IrTensor = { name: freshName(this.g, `${name}:${layout.toLowerCase()}`), shape: permute(t.shape, perm), role: 'activation', layout };
    if (t.role === 'weight') {
      Object.assign(converted, { role: 'weight', module: t.module, data: transposeData(t.data!, t.shape, perm) });
    } else {
      const nchwShape = t.layout === 'NCHW' ? t.shape : converted.shape;
      const base = { name: `${converted.name}`, module, frameworkOps: ['edgespec.layout'], inputs: [name], outputs: [converted.name] };
      this.nodes.push(
        layoutChangeIsFree(nchwShape)
          ? { ...base, op: 'reshape', attrs: { shape: converted.shape } }
          : { ...base, op: 'transpose', attrs: { perm: [...perm] } }
      );
    }
    this.g.tensors.set(converted.name, converted);
    this.conversions.set(key, converted.name);
    return converted.name;
  }

  /**
   * A 4-D tensor for an operand of lower rank that broadcasts against a 4-D result
   * (NumPy aligns shapes on the right): a weight gets a padded copy of its shape, an
   * activation a free re-view.
   */
  expandTo4d(name: string, layout: MemoryLayout, module: string): string {
    const t = this.tensor(name);
    if (t.shape.length === 4 && t.layout !== 'plain') return name;
    const shape = [...new Array<number>(4 - t.shape.length).fill(1), ...t.shape];
    const expanded: IrTensor = { ...t, name: freshName(this.g, `${name}:4d`), shape, layout };
    this.g.tensors.set(expanded.name, expanded);
    this.original.set(expanded.name, layout);
    if (t.role !== 'weight') {
      expanded.role = 'activation';
      this.nodes.push({ name: expanded.name, module, frameworkOps: ['edgespec.layout'], op: 'reshape', inputs: [name], outputs: [expanded.name], attrs: { shape } });
    }
    return expanded.name;
  }

  /** The layout shared by all 4-D inputs, or NHWC when they disagree. */
  private commonLayout(names: string[]): MemoryLayout {
    const layouts = new Set(names.filter(n => this.is4d(n)).map(n => this.tensor(n).layout));
    return layouts.size === 1 ? [...layouts][0] : 'NHWC';
  }

  private rewrite(node: IrNode): void {
    irRuleOf(node).toNHWC(node, this);
  }

  /** `name` with its bytes in the framework's order (no conversion when the change is free). */
  inOriginalOrder(name: string, module: string): string {
    const t = this.tensor(name);
    if (!this.is4d(name) || t.layout === this.originalLayout(name)) return name;
    const nchwShape = t.layout === 'NCHW' ? t.shape : permute(t.shape, TO_NCHW);
    return layoutChangeIsFree(nchwShape) ? name : this.want(name, this.originalLayout(name), module);
  }

  /** Does reducing `axes` (original dims) leave the remaining dims in the original order? */
  keepsOrder(name: string, axes: number[], layout: MemoryLayout): boolean {
    const t = this.tensor(name);
    const order = memoryOrder(layout, this.originalLayout(name), 4);
    const originalShape = permute(t.shape, inversePerm(memoryOrder(t.layout, this.originalLayout(name), 4)));
    const kept = order.filter(d => !axes.includes(d) && originalShape[d] !== 1);
    return kept.every((d, i) => i === 0 || kept[i - 1] < d);
  }
}
