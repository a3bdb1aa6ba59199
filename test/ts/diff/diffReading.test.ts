import { DebugTensorDump, DebugTensorsManifest } from '../../../src/common/types';
import { compareValues, imageValues } from '../../../src/toolchain/diff/compareTensor';
import { readDebugTensors } from '../../../src/toolchain/diff/readDebugTensors';

function dump(step: number, bytes: number, extra: Partial<DebugTensorDump> = {}): DebugTensorDump {
  return { step, tensor: `t${step}`, graph_tensor: `t${step}`, shape: [bytes / 4], layout: 'plain', dtype: 'float32', bytes, op: 'relu', kernel: 'relu', module: 'm', node: 'n', framework_ops: [], ...extra };
}

function record(step: number, index: number, data: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(0x54445345, 0);
  h.writeUInt32LE(step, 4);
  h.writeUInt32LE(index, 8);
  h.writeUInt32LE(data.length, 12);
  return Buffer.concat([h, data]);
}

const END = record(0xffffffff, 0, Buffer.alloc(0));
const floats = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);

describe('debug-tensors.bin against build.json', () => {
  const manifest: DebugTensorsManifest = { file: 'debug-tensors.bin', dumps: [dump(0, 8), dump(1, 4), dump(1, 4, { tensor: 'second' })] };

  it('reads every record in order, the writes of one step by their index', () => {
    const file = Buffer.concat([record(0, 0, floats(1, 2)), record(1, 0, floats(3)), record(1, 1, floats(4)), END]);
    const trace = readDebugTensors(file, manifest, 'f');
    expect(trace.complete).toBe(true);
    expect(trace.tensors.map(t => [...new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.length))])).toEqual([[1, 2], [3], [4]]);
  });

  it('gives the tensors up to where an image stopped, as incomplete', () => {
    const file = Buffer.concat([record(0, 0, floats(1, 2)), record(1, 0, floats(3)).subarray(0, 18)]);
    const trace = readDebugTensors(file, manifest, 'f');
    expect(trace.complete).toBe(false);
    expect(trace.tensors).toHaveLength(1);
  });

  it('refuses a record that is not the one build.json lists next', () => {
    const file = Buffer.concat([record(0, 0, floats(1, 2)), record(2, 0, floats(3)), END]);
    expect(() => readDebugTensors(file, manifest, 'f')).toThrow(/record 1 is step 2 write 0 \(4 bytes\), where build.json lists step 1 write 0 \(4 bytes\)/);
  });

  it('refuses an end record before the last tensor', () => {
    expect(() => readDebugTensors(Buffer.concat([record(0, 0, floats(1, 2)), END]), manifest, 'f')).toThrow(/end record comes after 1 of the 3/);
  });
});

describe('an image tensor in the framework\'s terms', () => {
  it('undoes NHWC for an NCHW graph tensor', () => {
    // N=1, H=1, W=2, C=3 in memory: pixel-major
    const data = floats(0, 1, 2, 10, 11, 12);
    const values = imageValues({ dump: dump(0, 24, { shape: [1, 1, 2, 3], layout: 'NHWC' }), data }, [1, 3, 1, 2], 'NCHW');
    expect([...(values as Float64Array)]).toEqual([0, 10, 1, 11, 2, 12]);
  });

  it('dequantizes int8 with the dump\'s scale and zero point', () => {
    const data = Buffer.from(new Int8Array([-128, 0, 127]).buffer);
    const values = imageValues({ dump: dump(0, 3, { shape: [3], dtype: 'int8', scale: 0.5, zero_point: -28 }), data }, [3], 'plain');
    expect([...(values as Float64Array)]).toEqual([-50, 14, 77.5]);
  });

  it('says why when the element counts differ', () => {
    expect(imageValues({ dump: dump(0, 8, { shape: [2] }), data: floats(1, 2) }, [3], 'plain')).toMatch(/holds 2 values where the graph tensor has 3/);
  });

  it('measures the error, its share of the range, cosine and quantization steps', () => {
    const c = compareValues(Float64Array.from([1, 2, 4]), Float64Array.from([1, 2, 3]), 0.25);
    expect(c.maxAbsError).toBe(1);
    expect(c.maxRelError).toBeCloseTo(1 / 3);
    expect(c.cosine).toBeCloseTo((1 + 4 + 12) / Math.sqrt(21 * 14));
    expect(c.quantSteps).toBe(4);
    expect(c.values.map(v => v.index)).toEqual([0, 1, 2]);
  });

  it('takes a NaN in the image for the largest error', () => {
    const c = compareValues(Float64Array.from([NaN, 1]), Float64Array.from([0, 1]), undefined);
    expect(c.maxAbsError).toBe(Infinity);
    expect(c.values[0]).toEqual({ index: 0, image: NaN, framework: 0 });
  });
});
