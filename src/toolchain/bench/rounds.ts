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

/** One side's part of a round: time its invokes and give their median in milliseconds. */
export type TimeRound = () => Promise<number>;

/**
 * The bench's timing shape, for every section: `rounds` rounds, each timing edgespec and then
 * every peer in turn (edgespec, peer A, peer B, edgespec, peer A, peer B, ...), so each peer's
 * round lies within seconds of the edgespec round it is compared with. Returns, per peer, its
 * rounds paired with the same round's edgespec median.
 */
export async function interleaveRounds<K extends string>(rounds: number, edgespec: TimeRound, peers: Record<K, TimeRound>): Promise<Record<K, Round[]>> {
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`internal: ${rounds} rounds`);
  const names = Object.keys(peers) as K[];
  const out = Object.fromEntries(names.map(n => [n, [] as Round[]])) as Record<K, Round[]>;
  for (let r = 0; r < rounds; r++) {
    const edgespecMs = await edgespec();
    for (const name of names) out[name].push({ edgespec_ms: edgespecMs, peer_ms: await peers[name]() });
  }
  return out;
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
