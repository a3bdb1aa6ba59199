// The tiny-model section's pure parts: the tflite peer's output lines, TFLM's print_allocations()
// text, interleaved-round statistics, the int8 output step of a bundle, and the table; and one
// real model through the real path (tiny_models.py: Keras -> TFLite converter -> edgespec capture,
// then a host build and run agreeing with tf.lite.Interpreter, and the LiteRT peer answering).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Graph } from '../../../src/common/types';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { loadBundle } from '../../../src/toolchain/bundle/loadBundle';
import { toNumbers } from '../../../src/toolchain/bundle/dtype';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { hostPeerCommand, parsePeerLine, parseTflmAllocations, TflitePeer } from '../../../src/toolchain/bench/tflitePeer';
import { ensureTinyModels, outputStep, tinyBundle, tinyTflite } from '../../../src/toolchain/bench/tinyBench';
import { agreementCell, agreementText, tinyMarkdown, tinyTable } from '../../../src/toolchain/bench/tinyMarkdown';
import { compareOutputs } from '../../../src/toolchain/bench/tinyStats';
import { interleaveRounds, summariseRounds } from '../../../src/toolchain/bench/rounds';
import { TinyReport, TinyRow } from '../../../src/toolchain/bench/tinyTypes';

const PRINT_ALLOCATIONS = [
  '[RecordingMicroAllocator] Arena allocation total 24800 bytes\r',
  '[RecordingMicroAllocator] Arena allocation head 16000 bytes\r',
  '[RecordingMicroAllocator] Arena allocation tail 8800 bytes\r',
  "[RecordingMicroAllocator] 'TfLiteEvalTensor data' used 936 bytes with alignment overhead (requested 936 bytes for 39 allocations)\r",
  "[RecordingMicroAllocator] 'Persistent buffer data' used 5756 bytes with alignment overhead (requested 5708 bytes for 35 allocations)\r",
  ''
].join('\n');

describe('the tflite peer protocol', () => {
  it('reads the ready line, with TFLM allocations', () => {
    const line = JSON.stringify({ event: 'ready', runtime: 'tflm', version: '0.dev1', input_dtype: 'int8', output_dtype: 'int8', machine: 'x86_64', output: [0.5, 0.25], allocations: PRINT_ALLOCATIONS });
    const parsed = parsePeerLine(line);
    expect(parsed).toMatchObject({ event: 'ready', runtime: 'tflm', version: '0.dev1', output: [0.5, 0.25] });
    expect(parsed && parsed.event === 'ready' && parsed.allocations).toContain('total 24800');
  });

  it('reads timing answers and errors, and skips log lines and malformed JSON', () => {
    expect(parsePeerLine('{"event": "times", "times_ms": [0.2, 0.1]}')).toEqual({ event: 'times', times_ms: [0.2, 0.1] });
    expect(parsePeerLine('{"event": "error", "message": "unknown request"}')).toEqual({ event: 'error', message: 'unknown request' });
    expect(parsePeerLine('INFO: Created TensorFlow Lite XNNPACK delegate for CPU.')).toBeUndefined();
    expect(parsePeerLine('{"event": "times", "times_ms": [-1]}')).toBeUndefined();
    expect(parsePeerLine('{"event": "times", "times_ms": ["x"]}')).toBeUndefined();
    expect(parsePeerLine('{"event": "ready", "runtime": "other", "output": []}')).toBeUndefined();
    expect(parsePeerLine('{not json')).toBeUndefined();
  });

  it("reads TFLM's print_allocations() text", () => {
    expect(parseTflmAllocations(PRINT_ALLOCATIONS)).toEqual({
      total: 24800, head: 16000, tail: 8800,
      kinds: { 'TfLiteEvalTensor data': 936, 'Persistent buffer data': 5756 }
    });
    expect(parseTflmAllocations('nothing printed')).toBeUndefined();
  });
});

describe('interleaved rounds', () => {
  it('takes the median of per-round ratios, not the ratio of medians', () => {
    const s = summariseRounds([{ edgespec_ms: 1, peer_ms: 2 }, { edgespec_ms: 4, peer_ms: 2 }, { edgespec_ms: 3, peer_ms: 4 }]);
    expect(s.ratio).toBeCloseTo(0.75);
    expect(s.edgespec_ms).toBe(3);
    expect(s.peer_ms).toBe(2);
    expect([s.ratio_min, s.ratio_max, s.rounds]).toEqual([0.5, 2, 3]);
  });

  it('refuses no rounds and non-positive times', () => {
    expect(() => summariseRounds([])).toThrow(/no rounds/);
    expect(() => summariseRounds([{ edgespec_ms: 0, peer_ms: 1 }])).toThrow(/positive/);
  });

  it('compares outputs by max abs error and top-1', () => {
    expect(compareOutputs([0.1, 0.7, 0.2], [0.1, 0.6, 0.3])).toEqual({ max_abs_error: expect.closeTo(0.1, 12), top1_match: true });
    expect(compareOutputs([0.5, 0.4], [0.4, 0.5]).top1_match).toBe(false);
    expect(() => compareOutputs([1], [1, 2])).toThrow(/values/);
  });
});

describe('the output step of an int8 bundle', () => {
  it('is the scale of what the final dequantize reads', () => {
    const graph = {
      outputs: [{ name: 'y', tensor: 'y', shape: [1, 2], dtype: 'float32', layout: 'NC' }],
      tensors: { yq: { shape: [1, 2], dtype: 'int8', kind: 'activation', quantization: { scale: [0.00390625], zero_point: [-128] } }, y: { shape: [1, 2], dtype: 'float32', kind: 'output' } },
      nodes: [{ name: 'dq', op: 'dequantize', inputs: ['yq'], outputs: ['y'], attrs: {}, framework_ops: [], module: '' }]
    } as unknown as Graph;
    expect(outputStep(graph)).toBe(0.00390625);
    expect(outputStep({ ...graph, nodes: [] } as Graph)).toBeUndefined();
  });
});

const m = (value: number) => ({ value, how: 'test' });
const rows: TinyRow[] = [
  {
    model: 'kws', dtype: 'int8', agrees: true, errors: [],
    agreement: [{ target: 'qemu-virt', status: 'ok', max_abs_error: 0, top1_match: true, steps: 0 }, { target: 'host', status: 'ok', max_abs_error: 0, top1_match: true, steps: 0 }],
    image_bytes: m(83144), weights_bytes: m(27308), overhead_bytes: m(55836), arena_bytes: m(16000), arena_lower_bound: m(16000), guest_instructions: m(1451088),
    host: { edgespec_ms: 1.25, peer_ms: 0.168, ratio: 7.33, ratio_min: 6.99, ratio_max: 7.46, rounds: 3, peer: 'LiteRT 2.3.0', how: 'interleaved rounds' },
    tflm: { version: '0.dev1', arena_total: 24800, arena_head: 16000, arena_tail: 8800, host_ms: 16, host_runs: 20, max_abs_error: 0, how: 'print_allocations' }
  },
  {
    model: 'vww', dtype: 'float32', agrees: false, errors: ['linux run: mismatch'],
    agreement: [{ target: 'qemu-virt', status: 'ok', max_abs_error: 2.5e-7, top1_match: true }, { target: 'linux', status: 'mismatch', max_abs_error: 0.5, top1_match: false }],
    tflm_unavailable: 'not available: tflite_micro does not import'
  }
];

describe('the tiny table', () => {
  it('says bit-exact, steps or max abs error per target, merged when they agree', () => {
    expect(agreementCell(rows[0])).toBe('bit-exact, top-1 same (qemu-virt, host)');
    expect(agreementText({ target: 'host', status: 'ok', max_abs_error: 0.02, top1_match: true, steps: 2.0000001 }, true)).toBe('≤ 2 steps, top-1 same');
    expect(agreementCell(rows[1])).toBe('qemu-virt: 2.5e-7, top-1 same; linux: 5.0e-1, top-1 differs (mismatch)');
  });

  it('renders one line per row with ratios, bytes, arena against TFLM, and what is missing', () => {
    const table = tinyTable(rows).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toContain('| KWS DS-CNN | int8 |');
    expect(table[2]).toContain('| 7.33x | 1.25 / 0.168 |');
    expect(table[2]).toContain('55,836 (54.5 KiB)');
    expect(table[2]).toContain('16,000 (bound 16,000) | 16,000 (total 24,800) | 1.00x |');
    expect(table[3]).toContain('not available: tflite_micro does not import');
  });

  it('writes the machine, the goals, how each number was measured and the problems', () => {
    const report: TinyReport = {
      format: 'edgespec.bench-tiny', version: 1, date: '2026-01-01T00:00:00.000Z',
      machine: { cpu: 'Test CPU', cores: 2, os: 'Linux', node: '20', load_average: [3, 2, 1], litert: '2.3.0' },
      settings: { rounds: 3, host_runs: 200, host_warmup: 20, emulated_rounds: 3, emulated_runs: 8, emulated_warmup: 2, tflm_runs: 20, seed: 0, models: 'MLPerf Tiny in Keras', input: 'seeded' },
      emulated_skipped: 'left out with --no-arm64', seconds: 12, rows
    };
    const md = tinyMarkdown(report);
    expect(md).toContain('on Test CPU (2 cores)');
    expect(md).toContain('0 of 1 measured cells meet it');
    expect(md).toContain('The qemu-aarch64 columns are missing: left out with --no-arm64.');
    expect(md).toContain('- **host / LiteRT**, **host ms / LiteRT ms**: interleaved rounds.');
    expect(md).toContain('| KWS DS-CNN | int8 | 6.99–7.46 (3) | – |');
    expect(md).toContain('- VWW MobileNetV1 0.25 float32: linux run: mismatch');
  });
});

describe('one tiny model through the real path', () => {
  const cache = mkdtempSync(path.join(tmpdir(), 'edgespec-tiny-test-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  const quiet = { json: false, log: () => undefined, progress: () => undefined, result: () => undefined, error: () => undefined } as never;

  it('makes the int8 autoencoder, builds it for the host, agrees with tf.lite.Interpreter, and LiteRT answers the same', async () => {
    await ensureTinyModels(cache, ['autoencoder'], ['int8'], quiet);
    const tflite = tinyTflite(cache, 'autoencoder', 'int8');
    const bundle = tinyBundle(cache, 'autoencoder', 'int8');
    expect(existsSync(tflite)).toBe(true);
    expect(existsSync(path.join(bundle, 'graph.json'))).toBe(true);
    const out = path.join(cache, 'host');
    await buildBundle({ bundleDir: bundle, target: 'host', outDir: out, dtype: 'int8' });
    const { report } = await runBuild({ buildDir: out, reporter: quiet });
    expect(report.status).toBe('ok');
    expect(report.agreement!.within_tolerance).toBe(true);

    const b = await loadBundle(bundle);
    const input = path.join(cache, 'input.bin');
    writeFileSync(input, b.reference.tensors.get(b.graph.reference.inputs[0])!.data);
    const ref = b.reference.tensors.get(b.graph.reference.outputs[0])!;
    const peer = await TflitePeer.start(await hostPeerCommand('litert', tflite, input), 300000);
    try {
      expect(peer.ready!.input_dtype).toBe('int8');
      expect(peer.ready!.output).toHaveLength(640);
      // LiteRT's XNNPACK may round int8 requantization differently from the interpreter's kernels: within a few steps
      const step = outputStep(b.graph)!;
      expect(compareOutputs(peer.ready!.output, toNumbers(ref.data, ref.dtype)).max_abs_error).toBeLessThanOrEqual(2 * step + 1e-9);
      const times = await peer.time(3, 1, 120000);
      expect(times).toHaveLength(3);
    } finally {
      peer.close();
    }
  });
});
