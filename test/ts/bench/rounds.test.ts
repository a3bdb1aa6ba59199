// The bench's shared timing shape (rounds.ts): edgespec then each peer, round after round, for
// the torchvision and the tiny sections alike; the line-protocol peer (linePeer.ts) on the real
// arm64 onnxruntime peer script run natively; and the per-round ratio ranges of bench.md.
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { benchMarkdown, roundRangeLines } from '../../../src/toolchain/bench/benchMarkdown';
import { BenchReport } from '../../../src/toolchain/bench/benchTypes';
import { LinePeer, parseLinePeerLine } from '../../../src/toolchain/bench/linePeer';
import { interleaveRounds, summariseRounds } from '../../../src/toolchain/bench/rounds';

describe('interleaveRounds', () => {
  it('times edgespec, then every peer, in each round, and pairs each peer round with that round of edgespec', async () => {
    const order: string[] = [];
    let clock = 0;
    const side = (name: string, ms: number) => async () => {
      order.push(name);
      clock += 1;
      return ms * clock;
    };
    const rounds = await interleaveRounds(3, side('edgespec', 1), { onnxruntime: side('onnxruntime', 2), torch: side('torch', 3) });
    expect(order).toEqual(['edgespec', 'onnxruntime', 'torch', 'edgespec', 'onnxruntime', 'torch', 'edgespec', 'onnxruntime', 'torch']);
    expect(rounds.onnxruntime).toEqual([{ edgespec_ms: 1, peer_ms: 4 }, { edgespec_ms: 4, peer_ms: 10 }, { edgespec_ms: 7, peer_ms: 16 }]);
    expect(rounds.torch.map(r => r.edgespec_ms)).toEqual([1, 4, 7]);
    expect(summariseRounds(rounds.torch).rounds).toBe(3);
  });

  it('with no peers still times edgespec once per round, and refuses no rounds', async () => {
    let calls = 0;
    expect(await interleaveRounds(2, async () => ++calls, {})).toEqual({});
    expect(calls).toBe(2);
    await expect(interleaveRounds(0, async () => 1, {})).rejects.toThrow(/rounds/);
  });

  it('stops at the first failing side with its error', async () => {
    await expect(interleaveRounds(3, async () => 1, { onnxruntime: async () => { throw new Error('peer died'); } })).rejects.toThrow('peer died');
  });
});

describe('the line-protocol peer, on arm64/ort_peer.js run by this Node.js', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'edgespec-rounds-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const model = path.resolve('test/fuzz/corpus/onnx/seed-model.onnx');

  // (onnxruntime-node itself does not load inside jest's sandbox: its tensors fail the sandbox's Float32Array check)
  it('says ready with its version and output, then answers timing rounds', async () => {
    const x = Float32Array.from({ length: 2 * 8 * 8 }, (_, i) => Math.sin(i));
    const data = Buffer.from(x.buffer);
    writeFileSync(path.join(work, 'x.bin'), data);
    writeFileSync(path.join(work, 'inputs.json'), JSON.stringify([{ dtype: 'float32', shape: [1, 2, 8, 8], file: path.join(work, 'x.bin') }]));
    const ready = (v: Record<string, unknown>) => (Array.isArray(v.output) ? { version: String(v.version), output: (v.output as number[]).map(Number) } : undefined);
    const peer = await LinePeer.start({ command: process.execPath, args: ['src/toolchain/bench/arm64/ort_peer.js', path.resolve('node_modules/onnxruntime-node'), model, path.join(work, 'inputs.json')], env: process.env }, 60000, 'the onnxruntime peer', line => parseLinePeerLine(line, ready));
    try {
      expect(peer.ready!.version).toBe(require('onnxruntime-node/package.json').version);
      expect(peer.ready!.output.length).toBeGreaterThan(0);
      expect(peer.ready!.output.every(Number.isFinite)).toBe(true);
      const [a, b] = [await peer.time(3, 1, 60000), await peer.time(2, 0, 60000)];
      expect(a).toHaveLength(3);
      expect(b).toHaveLength(2);
      expect([...a, ...b].every(t => t > 0)).toBe(true);
    } finally {
      peer.close();
    }
  });

  it('names the peer and its command when it ends before it is ready', async () => {
    await expect(LinePeer.start({ command: process.execPath, args: ['-e', 'console.error("no model here"); process.exit(3)'], env: process.env }, 60000, 'the test peer', line => parseLinePeerLine(line, () => ({}))))
      .rejects.toThrow(/the test peer ended: no model here/);
  });
});

describe('per-round ratio ranges in bench.md', () => {
  const m = (value: number) => ({ value, how: 'test' });
  const report: BenchReport = {
    format: 'edgespec.bench', version: 1, date: '2026-01-01T00:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, os: 'Linux', node: '20' },
    settings: { rounds: 3, runs: 20, warmup: 3, host_repeats: 23, input: 'seeded', emulated_runs: 3, emulated_warmup: 1 },
    models: [
      { model: 'resnet18', dtype: 'int8', agrees: true, runs: [], errors: [], host_vs_onnxruntime: m(0.9), linux_vs_onnxruntime_arm64: m(0.88),
        round_ratios: { host_vs_onnxruntime: { min: 0.85, max: 1.02, rounds: 3 }, linux_vs_onnxruntime_arm64: { min: 0.8, max: 0.95, rounds: 3 } } },
      { model: 'squeezenet1_1', dtype: 'float32', agrees: true, runs: [], errors: [] }
    ]
  };

  it('lists each timed row with its smallest and largest per-round ratio', () => {
    const lines = roundRangeLines(report);
    expect(lines).toContain('| resnet18 | int8 | 0.85–1.02 (3) | – | 0.80–0.95 (3) |');
    expect(lines.some(l => l.includes('squeezenet1_1'))).toBe(false);
    expect(roundRangeLines({ ...report, models: [report.models[1]] })).toEqual([]);
  });

  it('says the rounds in the header', () => {
    const md = benchMarkdown(report);
    expect(md).toContain('Timing: 3 interleaved rounds; per round, median of 20 runs after 3 warm-up runs (under qemu-aarch64: 3 after 1).');
    expect(md).toContain('## Per-round ratio ranges');
  });
});
