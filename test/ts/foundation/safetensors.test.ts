import execa from 'execa';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { encodeSafetensors, parseSafetensors, readSafetensors, SafetensorsError, TensorToWrite, writeSafetensors } from '../../../src/toolchain/bundle/safetensors';
import { EdgespecError } from '../../../src/toolchain/errors';
import { repoFiles } from '../../../src/toolchain/paths';
import { removeScratch, scratchDir } from './tinyBundle';

const tensors: TensorToWrite[] = [
  { name: 'conv.weight', dtype: 'float32', shape: [2, 1, 2, 2], data: new Float32Array([1.5, -2, 3.25, 0, 1e-7, -1e30, 7, 8]) },
  { name: 'q', dtype: 'int8', shape: [3], data: new Int8Array([-128, 0, 127]) },
  { name: 'u', dtype: 'uint8', shape: [1, 2], data: new Uint8Array([0, 255]) },
  { name: 'i32', dtype: 'int32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
  { name: 'i64', dtype: 'int64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]) },
  { name: 'mask', dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
  { name: 'empty', dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
  { name: 'scalar', dtype: 'float32', shape: [], data: new Float32Array([42]) }
];

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** A file with exactly this header text and data section. */
function rawFile(header: unknown, data: Buffer = Buffer.alloc(0), declaredLength?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(text.length));
  return Buffer.concat([length, text, data]);
}

function problemOf(buffer: Buffer): string {
  try {
    parseSafetensors(buffer, 'test.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as EdgespecError).code).toBe('safetensors-invalid');
    expect((e as EdgespecError).hint).toBeTruthy();
    return (e as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('safetensors round trip', () => {
  it('reads back every dtype, shape, byte and the metadata', () => {
    const file = parseSafetensors(encodeSafetensors(tensors, { format: 'pt', note: 'x' }), 'mem');
    expect(file.metadata).toEqual({ format: 'pt', note: 'x' });
    expect([...file.tensors.keys()]).toEqual(tensors.map(t => t.name));
    for (const t of tensors) {
      const back = file.tensors.get(t.name)!;
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(back.data.equals(bytesOf(t.data))).toBe(true);
    }
  });

  it('starts the data section 8-byte aligned', () => {
    const buffer = encodeSafetensors(tensors.slice(1, 2));
    expect((8 + Number(buffer.readBigUInt64LE(0))) % 8).toBe(0);
  });

  it('writes atomically through a file and reads it back', async () => {
    const dir = scratchDir('st');
    try {
      const file = path.join(dir, 'w.safetensors');
      await writeSafetensors(file, tensors);
      const back = await readSafetensors(file);
      expect(back.tensors.get('i64')!.data.readBigInt64LE(8)).toBe(2n ** 53n + 1n);
      expect(back.byteLength).toBe(readFileSync(file).length);
    } finally {
      removeScratch(dir);
    }
  });

  it('refuses to write a tensor whose bytes do not fit its shape', () => {
    expect(() => encodeSafetensors([{ name: 'bad', dtype: 'float32', shape: [3], data: new Float32Array(2) }])).toThrow(/'bad' has 8 bytes, but float32 \[3\] needs 12/);
  });

  it('agrees with the reference Python safetensors library in both directions', async () => {
    if (!existsSync(repoFiles.venvPython)) {
      throw new Error(`${repoFiles.venvPython} is missing: create the venv (see README) so this cross-check can run`);
    }
    const dir = scratchDir('stpy');
    try {
      const ours = path.join(dir, 'ours.safetensors');
      const theirs = path.join(dir, 'theirs.safetensors');
      await writeSafetensors(ours, tensors.filter(t => t.shape.length > 0), { format: 'np' });
      const script = [
        'import sys, numpy as np',
        'from safetensors.numpy import load_file, save_file',
        'from safetensors import safe_open',
        'd = load_file(sys.argv[1])',
        'assert d["conv.weight"].dtype == np.float32 and d["conv.weight"].shape == (2, 1, 2, 2), d["conv.weight"]',
        'assert d["conv.weight"][0, 0, 1, 0] == 3.25 and d["i64"][1] == 2**53 + 1 and d["mask"].dtype == np.bool_',
        'assert safe_open(sys.argv[1], "np").metadata() == {"format": "np"}',
        'save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([-1, 5], dtype=np.int64)}, sys.argv[2], metadata={"k": "v"})'
      ].join('\n');
      await execa(repoFiles.venvPython, ['-c', script, ours, theirs]);
      const back = await readSafetensors(theirs);
      expect(back.metadata).toEqual({ k: 'v' });
      const a = back.tensors.get('a')!;
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual([2, 3]);
      expect([0, 1, 2, 3, 4, 5].map(i => a.data.readFloatLE(i * 4))).toEqual([0, 1, 2, 3, 4, 5]);
      expect(back.tensors.get('b')!.data.readBigInt64LE(0)).toBe(-1n);
    } finally {
      removeScratch(dir);
    }
  });
});

describe('safetensors corruption errors', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('a file shorter than the header length field', () => {
    expect(problemOf(Buffer.from([1, 2, 3]))).toMatch(/3 bytes, too short .* truncated/);
  });

  it('a header length beyond the end of the file', () => {
    expect(problemOf(rawFile(ok, Buffer.alloc(8), 5000n))).toMatch(/header length 5000 goes beyond the end of the file/);
    expect(problemOf(rawFile(ok, Buffer.alloc(8), 2n ** 63n))).toMatch(/goes beyond the end of the file/);
  });

  it('a header that is not JSON or not an object', () => {
    expect(problemOf(rawFile('{"a": '))).toMatch(/header is not valid JSON/);
    expect(problemOf(rawFile([1, 2]))).toMatch(/header is not a JSON object/);
  });

  it('a data section cut short (truncated file)', () => {
    const whole = encodeSafetensors(tensors.slice(0, 2));
    expect(problemOf(whole.subarray(0, whole.length - 1))).toMatch(/tensor 'q' data_offsets \[32, 35\] go beyond the data section \(34 bytes\): the file is truncated/);
  });

  it('offsets out of order or negative', () => {
    expect(problemOf(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, Buffer.alloc(8)))).toMatch(/'a' has data_offsets \[8,0\]/);
    expect(problemOf(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, Buffer.alloc(8)))).toMatch(/'a' has data_offsets/);
  });

  it('overlapping tensors', () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expect(problemOf(rawFile(header, Buffer.alloc(12)))).toMatch(/tensor 'b' data_offsets \[4, 12\] overlap tensor 'a' \[0, 8\]/);
  });

  it('bytes that belong to no tensor, between tensors or after the last', () => {
    const gap = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    expect(problemOf(rawFile(gap, Buffer.alloc(12)))).toMatch(/4 bytes before tensor 'b' .* belong to no tensor/);
    expect(problemOf(rawFile(ok, Buffer.alloc(10)))).toMatch(/data section is 10 bytes but the tensors end at 8/);
  });

  it('a byte count that is not product(shape) x itemsize', () => {
    expect(problemOf(rawFile({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, Buffer.alloc(20)))).toMatch(/'w' holds 20 bytes, but float32 \[2, 3\] needs 24/);
    expect(problemOf(rawFile({ w: { dtype: 'I64', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8)))).toMatch(/'w' holds 8 bytes, but int64 \[2\] needs 16/);
  });

  it('an unsupported dtype, a bad shape, bad metadata', () => {
    expect(problemOf(rawFile({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, Buffer.alloc(2)))).toMatch(/'h' has dtype F16, which edgespec does not support/);
    expect(problemOf(rawFile({ h: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, Buffer.alloc(4)))).toMatch(/'h' has shape \[1.5\]/);
    expect(problemOf(rawFile({ __metadata__: { n: 1 }, ...ok }, Buffer.alloc(8)))).toMatch(/__metadata__ entry 'n' is not a string/);
  });

  it('an unreadable file gets its own error', async () => {
    await expect(readSafetensors('/nonexistent/x.safetensors')).rejects.toThrow(/cannot read \/nonexistent\/x.safetensors: ENOENT/);
  });
});
