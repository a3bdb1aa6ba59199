import { median } from './stats';

/** One interleaved round: edgespec's median and the peer's median, measured one right after the other. */
export interface Round {
  edgespec_ms: number;
  peer_ms: number;
}

export interface RoundSummary {
  /** The median over rounds of each side's per-round median. */
  edgespec_ms: number;
  peer_ms: number;
  /** The median over rounds of edgespec_ms / peer_ms of the same round (below 1: edgespec is faster). */
  ratio: number;
  /** The smallest and largest per-round ratio: how much the machine's load moved it. */
  ratio_min: number;
  ratio_max: number;
  rounds: number;
}

/**
 * Summarises interleaved rounds. Each round's ratio compares two medians taken within seconds
 * of each other, so load that comes and goes on a shared machine hits both sides of a round
 * alike; the median of those ratios is what the table shows.
 */
export function summariseRounds(rounds: readonly Round[]): RoundSummary {
  if (rounds.length === 0) throw new Error('no rounds to summarise');
  const bad = rounds.find(r => !(r.edgespec_ms > 0) || !(r.peer_ms > 0));
  if (bad) throw new Error(`a round without a positive time on both sides: ${JSON.stringify(bad)}`);
  const ratios = rounds.map(r => r.edgespec_ms / r.peer_ms);
  return {
    edgespec_ms: median(rounds.map(r => r.edgespec_ms)),
    peer_ms: median(rounds.map(r => r.peer_ms)),
    ratio: median(ratios),
    ratio_min: Math.min(...ratios),
    ratio_max: Math.max(...ratios),
    rounds: rounds.length
  };
}

/** max |a - b| over the elements, and whether the largest elements sit at the same index (top-1). */
export function compareOutputs(output: ArrayLike<number>, reference: ArrayLike<number>): { max_abs_error: number; top1_match: boolean } {
  if (output.length !== reference.length) throw new Error(`output has ${output.length} values, the reference ${reference.length}`);
  let maxAbs = 0;
  let topOut = 0;
  let topRef = 0;
  for (let i = 0; i < output.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(output[i] - reference[i]));
    if (output[i] > output[topOut]) topOut = i;
    if (reference[i] > reference[topRef]) topRef = i;
  }
  return { max_abs_error: maxAbs, top1_match: topOut === topRef };
}
