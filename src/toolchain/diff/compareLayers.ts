import { DivergenceLayer, Graph, GraphNode } from '../../common/types';
import { defaultLayout } from '../build/graphToIr';
import { compareValues, FrameworkValue, frameworkValues, imageValues } from './compareTensor';
import { DumpedTensor } from './readDebugTensors';
import { TolerancePolicy, toleranceOf } from './tolerance';

/** One number JSON can hold: non-finite errors (a NaN in the image) are reported as the largest double. */
function finite(x: number): number {
  return Number.isFinite(x) ? x : Number.MAX_VALUE;
}

/** The framework's value of a graph tensor, or undefined when capture kept none. */
export type FrameworkLookup = (graphTensor: string) => FrameworkValue | undefined;

/**
 * Every dumped tensor against the framework's value of its graph tensor, in the image's
 * order; rows without a framework value say why.
 */
export function compareLayers(tensors: DumpedTensor[], graph: Graph, frameworkValueOf: FrameworkLookup, policy: TolerancePolicy): DivergenceLayer[] {
  const nodes = new Map<string, GraphNode>(graph.nodes.map(n => [n.name, n]));
  const { tolerance, unit } = toleranceOf(policy);
  return tensors.map((t, index) => {
    const { dump } = t;
    const node = nodes.get(dump.node);
    const row: DivergenceLayer = {
      index,
      step: dump.step,
      tensor: dump.tensor,
      graph_tensor: dump.graph_tensor,
      op: dump.op,
      kernel: dump.kernel,
      node: dump.node,
      attrs: node?.attrs ?? {},
      framework_ops: dump.framework_ops,
      module: dump.module,
      ...(dump.source ?? node?.source ? { source: dump.source ?? node?.source } : {}),
      shape: dump.shape,
      dtype: dump.dtype,
      compared: false
    };
    const graphTensor = dump.graph_tensor === null ? undefined : graph.tensors[dump.graph_tensor];
    if (!graphTensor) return { ...row, why: 'a tensor edgespec made (a layout or dtype conversion, or a piece of a lowered op): the framework has no value for it' };
    const value = frameworkValueOf(dump.graph_tensor!);
    if (!value) return { ...row, why: 'capture kept no framework value for this tensor' };
    const image = imageValues(t, graphTensor.shape, defaultLayout(graphTensor.shape, graphTensor.layout, graph.source.framework));
    if (typeof image === 'string') return { ...row, why: image };
    const framework = frameworkValues(value, graphTensor);
    if (framework.length !== image.length) return { ...row, why: `the framework's value has ${framework.length} values, the image's ${image.length}` };
    const frameworkScale = graphTensor.quantization?.scale.length === 1 ? graphTensor.quantization.scale[0] : undefined;
    const quantScale = dump.dtype === 'int8' ? dump.scale : frameworkScale;
    const c = compareValues(image, framework, quantScale);
    // a float tensor of an int8 model (no scale to count steps in) is held to the relative bar of int8
    const bar = unit === 'quant_steps' && quantScale === undefined ? toleranceOf('int8-calibrated') : { tolerance, unit };
    const measured = bar.unit === 'quant_steps' ? c.quantSteps! : c.maxRelError;
    return {
      ...row,
      compared: true,
      max_abs_error: finite(c.maxAbsError),
      max_rel_error: finite(c.maxRelError),
      cosine: c.cosine,
      max_abs_reference: finite(c.maxAbsReference),
      ...(c.quantSteps !== undefined ? { quant_steps: finite(c.quantSteps) } : {}),
      tolerance: bar.tolerance,
      tolerance_unit: bar.unit,
      // a tiny slack for the rounding of the measure itself (e.g. exactly one step apart)
      within_tolerance: measured <= bar.tolerance * (1 + 1e-6),
      values: c.values.map(v => ({ index: v.index, image: finite(v.image), framework: finite(v.framework) }))
    };
  });
}

/** Index of the first compared layer over its tolerance, or null. */
export function firstDivergent(layers: DivergenceLayer[]): number | null {
  const first = layers.find(l => l.compared && l.within_tolerance === false);
  return first ? first.index : null;
}
