// `edgespec build --dtype int8`: the quantization arithmetic, and small models built for
// the host with real int8 kernels, run, and compared with the fp32 reference.
//
// Tolerance: int8 activations have 255 steps over each tensor's calibrated range, so every
// quantized layer adds up to half a step (≈0.2 % of its range) of rounding and per-channel
// int8 weights up to half a step of their largest weight (≈0.4 %); through the up to six
// quantized layers of these models the errors add to a few percent of the output's range.
// We require max |int8 - fp32| ≤ 5 % of max |fp32| (MobileNetV2, 53 quantized layers,
// measures 1.3 %) and, for a vector of logits, the same top-1. A wrong zero point, scale,
// bias or requantization shift gives errors of tens of percent, so the check still bites.
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { graphToIr } from '../../../src/toolchain/build/graphToIr';
import { activationParams, fixedMultiplier, quantizeValue, requantize } from '../../../src/toolchain/build/quantize/params';
import { PACK_SLOTS } from '../../../src/toolchain/build/quantize/quantizeSchedule';
import { EdgespecError } from '../../../src/toolchain/errors';
import { BuiltGraph, rng, writeBundle } from '../build/helpers/graphBuilder';
import { relativeError, runHostImage } from '../build/helpers/hostRun';
import { interpret } from '../build/helpers/interpret';
import { SMALL_GRAPHS } from '../build/helpers/smallGraphs';

const TOLERANCE = 0.05;

let workDir: string;
beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-int8-'));
});
afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

function referenceFor(built: BuiltGraph, seed: number): { inputs: Float32Array[]; outputs: Float32Array[] } {
  const ir = graphToIr(built.graph, built.lookup, 'host');
  const r = rng(seed);
  const inputs = built.graph.inputs.map(io => Float32Array.from({ length: io.shape.reduce((a, b) => a * b, 1) }, () => r() * 2));
  const values = interpret(ir, new Map(built.graph.inputs.map((io, i) => [io.tensor, { shape: io.shape, data: Float64Array.from(inputs[i]) }])));
  return { inputs, outputs: built.graph.outputs.map(io => Float32Array.from(values.get(io.name)!.data)) };
}

const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, i, a) => (x > a[best] ? i : best), 0);

describe('quantization arithmetic', () => {
  test('the build numbers pack slots up to the kernels\' ES_S8_PACK_SLOTS', async () => {
    const header = await fs.readFile(path.join(__dirname, '../../../kernels/include/edgespec/kernels_int8.h'), 'utf8');
    expect(Number(/#define ES_S8_PACK_SLOTS (\d+)/.exec(header)![1])).toBe(PACK_SLOTS);
  });

  test('fixed-point multipliers represent the real multiplier to 31 bits', () => {
    for (const real of [1e-6, 0.0007, 0.25, 0.5, 0.999999, 1, 1.5, 3.3, 1000]) {
      const { mult, shift } = fixedMultiplier(real);
      expect(mult).toBeGreaterThanOrEqual(2 ** 30);
      expect(mult).toBeLessThan(2 ** 31);
      expect(Math.abs(mult * 2 ** (shift - 31) - real) / real).toBeLessThan(2 ** -30);
    }
    expect(fixedMultiplier(0)).toEqual({ mult: 0, shift: 0 });
  });

  test('activation parameters cover the range and keep zero exact', () => {
    for (const [lo, hi] of [[-1, 1], [0, 6], [-3.2, 0.1], [0.5, 2], [-7, -1]]) {
      const p = activationParams(lo, hi);
      expect(quantizeValue(0, p)).toBe(p.zp);
      expect(p.scale * (quantizeValue(0, p) - p.zp)).toBe(0);
      expect(Math.abs(p.scale * (quantizeValue(lo, p) - p.zp) - lo)).toBeLessThanOrEqual(p.scale / 2 + 1e-9);
      expect(Math.abs(p.scale * (quantizeValue(hi, p) - p.zp) - hi)).toBeLessThanOrEqual(p.scale / 2 + 1e-9);
    }
  });

  // Two roundings (the doubling high multiply, then the divide by a power of two) as in TFLite: within one step.
  test('requantize rounds x * real to within one integer step (TFLite semantics)', () => {
    const signed = rng(3);
    const r = () => (signed() + 1) / 2;
    for (let i = 0; i < 2000; i++) {
      const real = 2 ** (-20 * r()) * (0.5 + r() / 2);
      const x = Math.round((r() - 0.5) * 2 ** 24);
      const m = fixedMultiplier(real);
      const exact = x * m.mult * 2 ** (m.shift - 31);
      expect(Math.abs(requantize(x, m) - exact)).toBeLessThanOrEqual(1);
    }
  });
});

describe('int8 host builds of small models agree with fp32', () => {
  for (const [name, make] of Object.entries(SMALL_GRAPHS)) {
    test(name, async () => {
      const built = make();
      const bundle = path.join(workDir, name);
      const { inputs, outputs } = referenceFor(built, 7);
      await writeBundle(bundle, built, inputs, outputs);
      const result = await buildBundle({ bundleDir: bundle, target: 'host', dtype: 'int8' });
      const log = await fs.readFile(path.join(result.dir, 'build.log'), 'utf8');
      expect(log).toContain('int8: post-training static quantization');
      expect(result.manifest.kernels.some(k => k.endsWith('_s8.c'))).toBe(true);
      // channelShuffle's int8 schedule (its transposes move codes since cbab961: 640 B in all, where the
      // fp32 detour took 1,664) has a lower bound of 512 B that no placement reaches: the transposed
      // input beside the convolution's output, both split halves beside that output, the depthwise
      // output beside one half and the concat, the concat beside the shuffled copy, in 64-byte units
      // leave no 8- or 9-unit arrangement (worked through by hand); 640 B is 10 units.
      const slack = name === 'channelShuffle' ? 2 * 64 : 64;
      expect(result.manifest.arena.bytes).toBeLessThanOrEqual(Math.ceil(1.05 * result.manifest.arena.lower_bound) + slack);
      // build.json names each dequantized output's int8 step (the int8 bar's floor): its grid
      // of 256 values spans the calibrated range, which holds the reference output
      result.manifest.outputs.forEach((o, i) => {
        if (o.quantization_step === undefined) return;
        const range = Math.max(0, ...outputs[i]) - Math.min(0, ...outputs[i]);
        // (0.99: a [0, 1] output keeps TFLite's fixed scale 1/256)
        expect(o.quantization_step * 255).toBeGreaterThanOrEqual(range * 0.99);
        expect(o.quantization_step * 255).toBeLessThan(range * 4 + 1e-6);
      });
      if (name === 'convBnRelu') expect(result.manifest.outputs[0].quantization_step).toBeGreaterThan(0);
      // every es_gemm_s8 / es_conv2d(_depthwise)_s8 call passes a pack slot of its own
      // (kernels_int8.h): the host's VNNI paths keep the slot's packed weights, so two calls
      // must never share one
      const modelC = await fs.readFile(path.join(result.dir, 'model.c'), 'utf8');
      const slots = [...modelC.matchAll(/es_(?:gemm|conv2d|conv2d_depthwise)_s8\(([^;]*)\);/g)].map(m => Number(m[1].split(',').pop()!.trim()));
      expect(slots.length).toBe((modelC.match(/es_(?:gemm|conv2d|conv2d_depthwise)_s8\(/g) ?? []).length);
      if (name === 'convBnRelu') expect(slots.length).toBeGreaterThan(0);
      slots.forEach(slot => expect(slot).toBeGreaterThan(0));
      expect(new Set(slots).size).toBe(slots.length);
      const actual = await runHostImage(result.dir, inputs);
      actual.forEach((a, i) => {
        expect(relativeError(a, outputs[i])).toBeLessThan(TOLERANCE);
        if (outputs[i].length > 1 && outputs[i].length <= 1000) expect(argmax(a)).toBe(argmax(outputs[i]));
      });
    });
  }

  test('an op without an int8 kernel runs in fp32 and the build log says so', async () => {
    const result = await buildBundle({ bundleDir: path.join(workDir, 'squeezeExcite'), target: 'host', dtype: 'int8', outDir: path.join(workDir, 'se-again') });
    const log = await fs.readFile(path.join(result.dir, 'build.log'), 'utf8');
    expect(log).toMatch(/int8: \d+ step\(s\) have no int8 kernel and run in fp32 between dequantize and quantize: .*div \(scale\)/);
    expect(result.manifest.kernels).toEqual(expect.arrayContaining(['quantize_s8.c', 'dequantize_s8.c']));
    // the gate's sigmoid is a lookup table (es_lut_s8) and its product an int8 mul, not fallbacks
    expect(log).not.toMatch(/run in fp32 between dequantize and quantize: .*(sigmoid|se\.scale)/);
    expect(result.manifest.kernels).toEqual(expect.arrayContaining(['lut_s8.c', 'mul_s8.c']));
  });

  test('a user calibration set that does not fit the input is refused, and nothing is left behind', async () => {
    const bad = path.join(workDir, 'bad-calibration');
    await fs.mkdir(bad);
    await fs.writeFile(path.join(bad, 'x.npy'), Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([118, 0]), Buffer.from(`{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }`.padEnd(117) + '\n'), Buffer.alloc(20)]));
    const out = path.join(workDir, 'never');
    const build = buildBundle({ bundleDir: path.join(workDir, 'convBnRelu'), target: 'host', dtype: 'int8', calibration: bad, outDir: out });
    await expect(build).rejects.toThrow(EdgespecError);
    await expect(build).rejects.toThrow(/x\.npy has shape \[5\], which is not the model input \[1, 3, 9, 9\]/);
    await expect(fs.stat(out)).rejects.toThrow();
    await expect(buildBundle({ bundleDir: path.join(workDir, 'convBnRelu'), target: 'host', dtype: 'int8', calibration: path.join(workDir, 'nope'), outDir: out }))
      .rejects.toThrow(/the calibration set .*nope does not exist/);
  });
});
