import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../../../src/toolchain/errors';
import { Random } from './mutate';

/**
 * One bounded fuzzing run: the corpus inputs first, then mutations of them for `seconds`.
 * The property: the parser returns, or throws an EdgespecError (its own error classes
 * extend it) with a message; never a TypeError, RangeError or anything else, and no
 * input takes longer than `slowMs`. The first input that breaks it is saved and returned.
 */
export interface FuzzTarget {
  name: string;
  corpus: string;
  run(input: Buffer): Promise<unknown>;
  mutate(input: Buffer, rng: Random, corpus: readonly Buffer[]): Buffer;
}

export interface FuzzOutcome {
  executions: number;
  seed: number;
  failure?: string;
}

export const FUZZ_SECONDS = Number(process.env.EDGESPEC_FUZZ_SECONDS ?? 20);
export const CRASH_DIR = process.env.EDGESPEC_FUZZ_OUT ?? path.resolve(__dirname, '../../../test-results/fuzz');
const SLOW_MS = 2000;
const MAX_MESSAGE_CHARS = 4000;

export function readCorpus(dir: string): Buffer[] {
  return readdirSync(dir).sort().map(name => readFileSync(path.join(dir, name)));
}

export function fuzzSeed(): number {
  const given = process.env.EDGESPEC_FUZZ_SEED;
  return given !== undefined ? Number(given) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

async function violation(target: FuzzTarget, input: Buffer): Promise<string | undefined> {
  const start = Date.now();
  let problem: string | undefined;
  try {
    await target.run(input);
  } catch (e) {
    if (!(e instanceof EdgespecError)) problem = `threw ${(e as Error)?.name ?? typeof e}, not an EdgespecError: ${(e as Error)?.stack ?? String(e)}`;
    else if (!e.message.trim()) problem = `threw an EdgespecError (${e.code}) with an empty message`;
    else if (e.message.length > MAX_MESSAGE_CHARS) problem = `threw an EdgespecError (${e.code}) with a ${e.message.length}-character message: ${e.message.slice(0, 300)}...`;
  }
  const took = Date.now() - start;
  if (!problem && took > SLOW_MS) problem = `took ${took} ms (more than ${SLOW_MS} ms) on one input`;
  return problem;
}

export async function fuzz(target: FuzzTarget, seconds = FUZZ_SECONDS, seed = fuzzSeed()): Promise<FuzzOutcome> {
  const corpus = readCorpus(target.corpus);
  const rng = new Random(seed);
  const deadline = Date.now() + seconds * 1000;
  let executions = 0;
  const check = async (input: Buffer): Promise<FuzzOutcome | undefined> => {
    executions++;
    const problem = await violation(target, input);
    if (!problem) return undefined;
    mkdirSync(CRASH_DIR, { recursive: true });
    const file = path.join(CRASH_DIR, `ts-${target.name}-crash-seed${seed}-${executions}`);
    writeFileSync(file, input);
    return { executions, seed, failure: `${target.name}: input saved as ${file} (seed ${seed}) ${problem}` };
  };
  for (const input of corpus) {
    const found = await check(input);
    if (found) return found;
  }
  while (Date.now() < deadline) {
    const found = await check(target.mutate(rng.pick(corpus), rng, corpus));
    if (found) return found;
  }
  return { executions, seed };
}
