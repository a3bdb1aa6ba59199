import { Graph } from '../../common/types';

/** True when graph.json gives quantization parameters (the bundle builds int8 with them). */
export function hasGivenQuantization(graph: Graph): boolean {
  return Object.values(graph.tensors).some(t => t.quantization !== undefined);
}

/** How many tensors carry given quantization, for inspect and the build log. */
export function givenQuantizationSummary(graph: Graph): { activations: number; weights: number; perChannelWeights: number } {
  const quantized = Object.values(graph.tensors).filter(t => t.quantization !== undefined);
  const weights = quantized.filter(t => t.kind === 'weight');
  return {
    activations: quantized.length - weights.length,
    weights: weights.length,
    perChannelWeights: weights.filter(t => t.quantization!.scale.length > 1).length
  };
}
