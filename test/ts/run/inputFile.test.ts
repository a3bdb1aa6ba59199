import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { encodeSafetensors } from '../../../src/toolchain/bundle/safetensors';
import { EdgespecError } from '../../../src/toolchain/errors';
import { InputSpec, readInputFile } from '../../../src/toolchain/run/inputFile';
import { encodeIoFile, IO_KIND_INPUTS } from '../../../src/toolchain/guest/ioFile';
import { encodeNpy, parseNpy } from '../../../src/toolchain/run/npy';
import { repoFiles } from '../../../src/toolchain/paths';

const image: InputSpec = { name: 'x', shape: [1, 3, 4, 4], dtype: 'float32' };
const bytes = 1 * 3 * 4 * 4 * 4;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'edgespec-input-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(file: string, specs: InputSpec[] = [image]): Promise<EdgespecError> {
  try {
    await readInputFile(file, specs);
  } catch (e) {
    if (e instanceof EdgespecError) return e;
    throw e;
  }
  throw new Error(`readInputFile accepted ${file}`);
}

describe('raw input files', () => {
  it('takes exactly the input bytes', async () => {
    const file = path.join(dir, 'ok.bin');
    writeFileSync(file, Buffer.alloc(bytes, 7));
    const [data] = await readInputFile(file, [image]);
    expect(data.length).toBe(bytes);
  });

  it('says expected vs got for a wrong size', async () => {
    const file = path.join(dir, 'short.bin');
    writeFileSync(file, Buffer.alloc(bytes - 4));
    const e = await failure(file);
    expect(e.code).toBe('input-invalid');
    expect(e.message).toContain(`has ${bytes - 4} bytes`);
    expect(e.message).toContain(`needs ${bytes} bytes`);
    expect(e.message).toContain("'x' (float32 [1, 3, 4, 4]");
    expect(e.hint).toMatch(/tofile/);
  });

  it('takes apart a file in the platforms\' I/O format by its header', async () => {
    const file = path.join(dir, 'io.bin');
    writeFileSync(file, encodeIoFile(IO_KIND_INPUTS, [Buffer.alloc(bytes, 3)]));
    const [data] = await readInputFile(file, [image]);
    expect(data.length).toBe(bytes);
    expect(data[0]).toBe(3);
    writeFileSync(file, encodeIoFile(IO_KIND_INPUTS, [Buffer.alloc(8)]));
    expect((await failure(file)).message).toContain("tensor 0 is 8 bytes, the model's is 192");
  });

  it('names a missing file', async () => {
    const e = await failure(path.join(dir, 'nope.bin'));
    expect(e.message).toContain('does not exist');
  });
});

describe('.npy input files written by NumPy', () => {
  const python = (code: string) => execFileSync(repoFiles.venvPython, ['-c', code], { cwd: dir });

  beforeAll(() => {
    python(
      [
        'import numpy as np',
        'np.save("good.npy", np.arange(48, dtype=np.float32).reshape(1, 3, 4, 4))',
        'np.save("squeezed.npy", np.zeros((3, 4, 4), dtype=np.float32))',
        'np.save("float64.npy", np.zeros((1, 3, 4, 4)))',
        'np.save("int32.npy", np.zeros((1, 3, 4, 4), dtype=np.int32))',
        'np.save("codes.npy", np.zeros((1, 3, 4, 4), dtype=np.int8))',
        'np.save("shape.npy", np.zeros((1, 4, 4, 3), dtype=np.float32))',
        'np.save("fortran.npy", np.asfortranarray(np.zeros((1, 3, 4, 4), dtype=np.float32)[0]))'
      ].join('\n')
    );
  });

  it('reads a matching array', async () => {
    const [data] = await readInputFile(path.join(dir, 'good.npy'), [image]);
    expect(new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))[47]).toBe(47);
  });

  it('accepts a shape without the leading batch of 1', async () => {
    expect((await readInputFile(path.join(dir, 'squeezed.npy'), [image]))[0].length).toBe(bytes);
  });

  it('rejects float64 and says how to convert', async () => {
    const e = await failure(path.join(dir, 'float64.npy'));
    expect(e.message).toMatch(/float64/);
    expect(e.message).toMatch(/float32/);
  });

  it('rejects a wrong dtype with expected vs got', async () => {
    const e = await failure(path.join(dir, 'int32.npy'));
    expect(e.message).toContain('is int32 but');
    expect(e.hint).toContain('astype(np.float32)');
  });

  it('says to dequantize int8 codes given for a float32 input, not to cast them', async () => {
    const e = await failure(path.join(dir, 'codes.npy'));
    expect(e.message).toContain('is int8 but');
    expect(e.hint).toContain('scale * (q - zero_point)');
  });

  it('rejects a wrong shape with expected vs got', async () => {
    const e = await failure(path.join(dir, 'shape.npy'));
    expect(e.message).toContain('has shape [1, 4, 4, 3]');
    expect(e.message).toContain('needs [1, 3, 4, 4]');
  });

  it('rejects Fortran order', async () => {
    const e = await failure(path.join(dir, 'fortran.npy'), [{ ...image, shape: [3, 4, 4] }]);
    expect(e.message).toMatch(/Fortran/);
  });

  it('rejects a file that is not .npy', async () => {
    const file = path.join(dir, 'text.npy');
    writeFileSync(file, 'hello');
    expect((await failure(file)).message).toMatch(/not a NumPy/);
  });

  it('round-trips through the writer and NumPy', () => {
    const data = Buffer.from(Float32Array.from([1.5, -2, 3]).buffer);
    writeFileSync(path.join(dir, 'written.npy'), encodeNpy({ dtype: 'float32', shape: [3], data }));
    const printed = python('import numpy as np; a = np.load("written.npy"); print(a.dtype, a.shape, a.tolist())').toString().trim();
    expect(printed).toBe('float32 (3,) [1.5, -2.0, 3.0]');
    expect(parseNpy(encodeNpy({ dtype: 'int64', shape: [1, 2], data: Buffer.alloc(16) })).shape).toEqual([1, 2]);
  });
});

describe('.safetensors input files', () => {
  const tensor = (name: string, dtype: 'float32' | 'int8', shape: number[]) => ({
    name,
    dtype,
    shape,
    data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * (dtype === 'float32' ? 4 : 1))
  });

  it('takes the tensor named after the input', async () => {
    const file = path.join(dir, 'named.safetensors');
    writeFileSync(file, encodeSafetensors([tensor('other', 'float32', [2]), tensor('x', 'float32', [1, 3, 4, 4])]));
    expect((await readInputFile(file, [image]))[0].length).toBe(bytes);
  });

  it('takes the only tensor of a single-input model whatever its name', async () => {
    const file = path.join(dir, 'single.safetensors');
    writeFileSync(file, encodeSafetensors([tensor('input', 'float32', [1, 3, 4, 4])]));
    expect((await readInputFile(file, [image]))[0].length).toBe(bytes);
  });

  it('rejects a wrong dtype', async () => {
    const file = path.join(dir, 'int8.safetensors');
    writeFileSync(file, encodeSafetensors([tensor('x', 'int8', [1, 3, 4, 4])]));
    const e = await failure(file);
    expect(e.message).toContain("tensor 'x' is int8 but the model's input");
  });

  it('lists the tensors when the input is not there', async () => {
    const file = path.join(dir, 'two.safetensors');
    writeFileSync(file, encodeSafetensors([tensor('a', 'float32', [1]), tensor('b', 'float32', [1])]));
    const e = await failure(file);
    expect(e.message).toContain("no tensor named 'x' (the file has 'a', 'b')");
  });

  it('rejects a damaged file with a clear message', async () => {
    const file = path.join(dir, 'bad.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    expect((await failure(file)).message).toMatch(/truncated/);
  });
});
