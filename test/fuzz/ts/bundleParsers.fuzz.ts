import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { loadBundle } from '../../../src/toolchain/bundle/loadBundle';
import { parseSafetensors } from '../../../src/toolchain/bundle/safetensors';
import { fuzz, FuzzTarget } from './fuzzLoop';
import { mutateBytes, mutateJsonText, mutateSafetensorsHeader } from './mutate';

/**
 * The toolchain's own parsers of a bundle under a bounded, seeded mutation fuzzer, from the
 * corpus the Python fuzzers use (test/fuzz/corpus): graph.json through loadBundle (schema,
 * checkGraph, then the fixture bundle's tensor files) and safetensors through parseSafetensors.
 * EDGESPEC_FUZZ_SECONDS sets the time per target, EDGESPEC_FUZZ_SEED replays a run.
 */
const FUZZ_DIR = path.resolve(__dirname, '..');
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'edgespec-fuzz-ts-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function graphJsonTarget(bundle: string): FuzzTarget {
  mkdirSync(bundle, { recursive: true });
  for (const file of ['weights.safetensors', 'reference.safetensors']) {
    copyFileSync(path.join(FUZZ_DIR, 'fixture_bundle', file), path.join(bundle, file));
  }
  return {
    name: 'graph_json',
    corpus: path.join(FUZZ_DIR, 'corpus', 'graph_json'),
    run: async input => {
      writeFileSync(path.join(bundle, 'graph.json'), input);
      return loadBundle(bundle);
    },
    mutate: (input, rng, corpus) => (rng.below(2) ? mutateJsonText(input, rng) : undefined) ?? mutateBytes(input, rng, corpus)
  };
}

const safetensorsTarget: FuzzTarget = {
  name: 'safetensors',
  corpus: path.join(FUZZ_DIR, 'corpus', 'safetensors'),
  run: async input => parseSafetensors(input, 'fuzzed.safetensors'),
  mutate: (input, rng, corpus) => (rng.below(2) ? mutateSafetensorsHeader(input, rng) : undefined) ?? mutateBytes(input, rng, corpus)
};

it('graph.json: loadBundle fails only with an EdgespecError', async () => {
  const outcome = await fuzz(graphJsonTarget(path.join(scratch, 'bundle')));
  console.log(`graph_json: ${outcome.executions} inputs, seed ${outcome.seed}`);
  expect(outcome.failure).toBeUndefined();
});

it('safetensors: parseSafetensors fails only with an EdgespecError', async () => {
  const outcome = await fuzz(safetensorsTarget);
  console.log(`safetensors: ${outcome.executions} inputs, seed ${outcome.seed}`);
  expect(outcome.failure).toBeUndefined();
});
