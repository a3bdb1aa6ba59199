import { EdgespecError } from '../../errors';
import { cloneGraph, freshName, GraphIndex, pruneTensors } from '../graphIndex';
import { BatchNormNode, Conv2dNode, IrGraph, IrNode, IrTensor, LinearNode, NO_ACTIVATION } from '../ir';
import { outputChannelAxis } from '../packWeights';
import { numel } from '../shape';

/** Per-channel scale = gamma / sqrt(var + eps) and shift = beta - mean * scale, in float64. */
function batchNormAffine(bn: BatchNormNode, index: GraphIndex): { scale: Float64Array; shift: Float64Array } {
  const [, gammaName, betaName, meanName, varName] = bn.inputs;
  const data = (name: string | undefined): Float32Array => {
    const t = name === undefined ? undefined : index.graph.tensors.get(name);
    if (!t?.data) {
      throw new EdgespecError('unsupported-graph', `batch norm ${bn.name} (${bn.module}) takes ${name ?? 'a missing input'} as a parameter, and only constant weights can be folded`, 'give batch norm its running statistics as weights (model.eval() before capture)');
    }
    return t.data;
  };
  const gamma = data(gammaName);
  const beta = data(betaName);
  const mean = data(meanName);
  const variance = data(varName);
  const channels = gamma.length;
  if (beta.length !== channels || mean.length !== channels || variance.length !== channels) {
    throw new EdgespecError('bad-graph', `batch norm ${bn.name}: its four parameters have different lengths`, 'capture the model again; graph.json is inconsistent');
  }
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + bn.attrs.eps);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

function addWeight(g: IrGraph, base: string, shape: number[], data: Float32Array, module: string): string {
  const name = freshName(g, base);
  const t: IrTensor = { name, shape, role: 'weight', layout: 'plain', module, data };
  g.tensors.set(name, t);
  return name;
}

/** Scales output channel o of the producer's weight and rewrites its bias, as new weight tensors. */
function foldInto(g: IrGraph, producer: Conv2dNode | LinearNode, bn: BatchNormNode, scale: Float64Array, shift: Float64Array): void {
  const weight = g.tensors.get(producer.inputs[1])!;
  const channels = scale.length;
  const axis = producer.op === 'conv2d' ? outputChannelAxis(producer.attrs.weightLayout) : 0;
  if (weight.shape[axis] !== channels) {
    throw new EdgespecError('bad-graph', `batch norm ${bn.name} has ${channels} channels but its producer ${producer.name} has ${weight.shape[axis]}`, 'capture the model again; graph.json is inconsistent');
  }
  // Element e of the weight belongs to output channel floor(e / inner) % channels.
  const inner = numel(weight.shape.slice(axis + 1));
  const w = weight.data!;
  const folded = new Float32Array(w.length);
  for (let e = 0; e < w.length; e++) folded[e] = w[e] * scale[Math.floor(e / inner) % channels];
  const biasName = producer.inputs[2];
  const bias = biasName !== undefined ? g.tensors.get(biasName)!.data! : undefined;
  const newBias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) newBias[o] = (bias ? bias[o] : 0) * scale[o] + shift[o];
  const module = producer.module;
  producer.inputs = [
    producer.inputs[0],
    addWeight(g, `${weight.name}:folded`, [...weight.shape], folded, weight.module ?? module),
    addWeight(g, `${biasName ?? `${weight.name}:bias`}:folded`, [channels], newBias, module)
  ];
  producer.outputs = [...bn.outputs];
  producer.frameworkOps = [...producer.frameworkOps, ...bn.frameworkOps];
}

function foldable(producer: IrNode | undefined, bn: BatchNormNode, index: GraphIndex): producer is Conv2dNode | LinearNode {
  if (!producer || (producer.op !== 'conv2d' && producer.op !== 'linear')) return false;
  const activation = producer.attrs.activation;
  if (activation.min !== -Infinity || activation.max !== Infinity) return false;
  if (index.soleConsumer(bn.inputs[0]) !== bn) return false;
  // Only a constant weight (and bias) can be rewritten at build time.
  return producer.inputs.slice(1).every(t => index.graph.tensors.get(t)?.data !== undefined);
}

/**
 * Folds each inference batch norm into the conv2d or linear that produces its input, when
 * the batch norm is that result's only reader; any other batch norm becomes a per-channel
 * scale_shift (channels on axis 1, or last for an NHWC tensor).
 */
export function foldBatchNorm(graph: IrGraph): IrGraph {
  const g = cloneGraph(graph);
  const index = new GraphIndex(g);
  const nodes: IrNode[] = [];
  for (const node of g.nodes) {
    if (node.op !== 'batch_norm') {
      nodes.push(node);
      continue;
    }
    const { scale, shift } = batchNormAffine(node, index);
    const producer = index.producer.get(node.inputs[0]);
    if (foldable(producer, node, index)) {
      foldInto(g, producer, node, scale, shift);
      continue;
    }
    const x = index.tensor(node.inputs[0]);
    nodes.push({
      name: node.name,
      module: node.module,
      frameworkOps: node.frameworkOps,
      ...(node.source ? { source: node.source } : {}),
      op: 'scale_shift',
      inputs: [
        node.inputs[0],
        addWeight(g, `${node.inputs[1]}:scale`, [scale.length], Float32Array.from(scale), node.module),
        addWeight(g, `${node.inputs[2]}:shift`, [shift.length], Float32Array.from(shift), node.module)
      ],
      outputs: [...node.outputs],
      attrs: { axis: x.layout === 'NHWC' ? 3 : 1, activation: { ...NO_ACTIVATION } }
    });
  }
  g.nodes = nodes;
  pruneTensors(g);
  return g;
}
