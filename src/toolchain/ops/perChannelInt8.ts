// The int8 lowering of the kernels with per-channel weights (conv2d, conv2d_depthwise, gemm):
// weights quantized per output channel (or the model's own integers), the input zero point
// folded into an int32 bias, and one requantization multiplier and shift per channel.

import { createHash } from 'crypto';

import { EdgespecError } from '../errors';
import { KernelStep } from '../build/schedule';
import { numel } from '../build/shape';
import { activationBounds, FixedMultiplier, fixedMultiplier, quantizePerChannel, roundHalfAway } from '../build/quantize/params';
import { GivenWeight } from '../build/quantize/givenQuantization';
import { shape4 } from './cText';
import { Int8Context } from './opModule';

function int32Bytes(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i], i * 4);
  return b;
}

export function lowerPerChannel(step: Extract<KernelStep, { kernel: 'conv2d' | 'conv2d_depthwise' | 'gemm' }>, ctx: Int8Context): void {
  const a = step.args;
  const xName = step.kernel === 'gemm' ? step.args.a : (step.args as { x: string }).x;
  const x = ctx.as(xName, 's8', step.from);
  const pin = ctx.paramsOf(x);
  const fw = ctx.fpWeights.get(a.w)!;
  // Channels: conv [OC][KH][KW][ICg] axis 0; depthwise [KH][KW][C] axis 2; gemm [K][N] → [N][K].
  let data = fw.data;
  let shape = fw.shape;
  let packing = `${fw.packing}, int8 per channel`;
  if (step.kernel === 'gemm') {
    const [k, n] = shape;
    const t = new Float32Array(k * n);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = data[i * n + j];
    data = t;
    shape = [n, k];
    packing = `${fw.packing}→[N][K], int8 per channel`;
  }
  const axis = step.kernel === 'conv2d_depthwise' ? 2 : 0;
  const givenWeight = ctx.given?.weights.get(fw.source);
  const { q, scales } = givenWeight ? givenIntegers(data, shape, axis, givenWeight, fw.source) : quantizePerChannel(data, shape, axis);
  const channels = shape[axis];
  const inner = numel(shape.slice(axis + 1));
  const sums = new Float64Array(channels);
  for (let i = 0; i < q.length; i++) sums[Math.floor(i / inner) % channels] += q[i];
  const bias = a.b ? ctx.fpWeights.get(a.b)!.data : null;
  const givenBias = a.b && ctx.given ? ctx.given.weights.get(ctx.fpWeights.get(a.b)!.source) : undefined;
  if (givenWeight && a.b && !givenBias) throw new EdgespecError('int8-given-quantization', `the int8 weight ${fw.source} has a float bias ${ctx.fpWeights.get(a.b)!.source}`, 'convert the model with the TFLite converter\'s full-integer quantization (int32 biases)');
  const pout = ctx.rangeParams(a.y);
  const mults = new Int32Array(channels);
  const shifts = new Int8Array(channels);
  const qbias = new Int32Array(channels);
  // TFLite's int8 FULLY_CONNECTED rounds once ((acc * mult + half) >> (31 - shift)), its convolutions twice.
  const roundOnce = ctx.given !== undefined && step.kernel === 'gemm' && step.op === 'linear';
  for (let c = 0; c < channels; c++) {
    const exact: FixedMultiplier = fixedMultiplier((pin.scale * scales[c]) / pout.scale);
    const m = roundOnce ? singleRounding(exact) : exact;
    mults[c] = m.mult;
    shifts[c] = m.shift;
    const b = givenBias ? givenBias.values[c] : bias ? roundHalfAway(bias[c] / (pin.scale * scales[c])) : 0;
    qbias[c] = b - pin.zp * sums[c];
    if (qbias[c] !== (qbias[c] | 0)) throw new EdgespecError('int8-bias-overflow', `the folded int32 bias of ${fw.source}, channel ${c}, does not fit 32 bits`, 'the input zero point times the channel\'s weight sum is too large; requantize the model');
  }
  const module = fw.module;
  // A weight shared by several steps (an unrolled RNN's time steps) keeps one copy of its codes; its bias, multipliers
  // and shifts depend on each step's input and output parameters, so they are named by their bytes: equal tables are shared.
  const byBytes = (suffix: string, bytes: Buffer) => `${a.w}#${suffix}:${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
  const [biasBytes, multBytes, shiftBytes] = [int32Bytes(qbias), int32Bytes(mults), Buffer.from(shifts.buffer)];
  const wq = ctx.addWeight({ name: `${a.w}#s8`, source: fw.source, module, shape, packing, bytes: Buffer.from(q.buffer, q.byteOffset, q.byteLength), elementBytes: 1 });
  const bq = ctx.addWeight({ name: byBytes('bias', biasBytes), source: a.b ? ctx.fpWeights.get(a.b)!.source : fw.source, module, shape: [channels], packing: 'int32 bias, input zero point folded', bytes: biasBytes, elementBytes: 4 });
  const mq = ctx.addWeight({ name: byBytes('mult', multBytes), source: fw.source, module, shape: [channels], packing: 'int32 requantization multipliers', bytes: multBytes, elementBytes: 4 });
  const sq = ctx.addWeight({ name: byBytes('shift', shiftBytes), source: fw.source, module, shape: [channels], packing: 'int8 requantization shifts', bytes: shiftBytes, elementBytes: 1 });
  const [lo, hi] = activationBounds(a.act.min, a.act.max, pout);
  const reads = [x, wq, bq, mq, sq];
  const slot = ctx.packSlot([step.kernel, wq, bq, mq, sq]);
  ctx.outputS8(a.y, pout, y => {
    if (step.kernel === 'gemm') {
      const g = step.args;
      ctx.push({
        kernel: 'gemm_s8', from: step.from, op: step.op, reads, writes: [y], inPlace: [],
        call: p => `es_gemm_s8(${p.read(x)}, ${p.read(wq)}, ${p.read(bq)}, ${p.write(y)}, ${g.m}, ${g.k}, ${g.n}, ${pout.zp}, ${p.read(mq)}, ${p.read(sq)}, ${lo}, ${hi}, ${slot})`
      });
      return;
    }
    const c = step.args as Extract<KernelStep, { kernel: 'conv2d' }>['args'];
    const geometry = `${c.kh}, ${c.kw}, ${c.strideH}, ${c.strideW}, ${c.padTop}, ${c.padLeft}, ${c.dilationH}, ${c.dilationW}`;
    const depthwise = step.kernel === 'conv2d_depthwise';
    ctx.push({
      kernel: depthwise ? 'conv2d_depthwise_s8' : 'conv2d_s8', from: step.from, op: step.op, reads, writes: [y], inPlace: [],
      call: p => `es_${depthwise ? 'conv2d_depthwise' : 'conv2d'}_s8(${p.read(x)}, ${shape4(c.is)}, ${pin.zp}, ${p.read(wq)}, ${p.read(bq)},\n      ${p.write(y)}, ${shape4(c.os)}, ${geometry}, ${depthwise ? '' : `${c.groups}, `}${pout.zp}, ${p.read(mq)}, ${p.read(sq)}, ${lo}, ${hi}, ${slot})`
    });
  }, step.from);
}

/**
 * A multiplier whose double rounding (es_requantize) gives TFLite's single rounding: the right
 * shift moves into the multiplier, so only the rounding of the high multiply is left. The
 * multiplier keeps 31 + shift bits (about 23 for a layer's usual shift of -8); the results
 * differ only where acc * mult lies within that precision of a rounding boundary.
 */
function singleRounding(m: FixedMultiplier): FixedMultiplier {
  return m.shift >= 0 ? m : { mult: Math.round(m.mult / 2 ** -m.shift), shift: 0 };
}

/**
 * The model's own int8 weights in the packed layout: the packed fp32 data holds
 * float32(scale[c] * q) (givenQuantization.realValues, re-laid by the packing), and dividing
 * by scale[c] gives q back exactly (|q| ≤ 127, float32 relative error ≤ 2^-24).
 */
function givenIntegers(data: Float32Array, shape: number[], axis: number, g: GivenWeight, name: string): { q: Int8Array; scales: Float64Array } {
  if (g.values instanceof Int32Array) throw new EdgespecError('int8-given-quantization', `weight ${name} is int32; the int8 kernels take int8 weights`, 'convert the model with int8 weights');
  if (g.zeroPoints.some(z => z !== 0)) throw new EdgespecError('int8-given-quantization', `weight ${name} has nonzero zero points; the int8 kernels take symmetric weights`, 'convert the model with the TFLite converter\'s int8 quantization (symmetric weights)');
  const channels = shape[axis];
  if (g.scales.length !== 1 && g.scales.length !== channels) throw new Error(`internal: weight ${name} has ${g.scales.length} scales for ${channels} channels`);
  const scales = Float64Array.from({ length: channels }, (_, c) => g.scales.length === 1 ? g.scales[0] : g.scales[c]);
  const inner = numel(shape.slice(axis + 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const exact = data[i] / scales[Math.floor(i / inner) % channels];
    q[i] = Math.round(exact);
    if (Math.abs(exact - q[i]) > 1e-3) throw new Error(`internal: packed weight ${name}[${i}] is not an integer multiple of its scale`);
  }
  return { q, scales };
}
