/**
 * The device side of the frame protocol (kernels/platform/common/frame.c and serve.c) on the
 * host: a harness (test/kernels/serve/frame_harness.c) with a stub model, built with gcc and
 * the sanitizers, checked against zlib's CRC-32 and driven by the TypeScript session.
 */
import { execFileSync, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { ServeConnection } from '../../../src/toolchain/serve/connection';
import { decodeError, decodeOutput, encodeFrame, FrameError, FrameType } from '../../../src/toolchain/serve/frame';
import { runServeSession, waitForReady } from '../../../src/toolchain/serve/session';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../../../src/toolchain/guest/ioFile';

const root = path.resolve(__dirname, '../../..');
const kernels = path.join(root, 'kernels');
let work: string;
let harness: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'edgespec-frame-'));
  harness = path.join(work, 'frame_harness');
  execFileSync('gcc', [
    '-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Werror', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
    `-I${kernels}/include`, `-I${kernels}/platform/host`,
    path.join(root, 'test/kernels/serve/frame_harness.c'),
    `${kernels}/platform/common/frame.c`, `${kernels}/platform/common/serve.c`, `${kernels}/platform/common/io_format.c`,
    `${kernels}/platform/host/stdio_port.c`,
    '-o', harness
  ]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const floats = (values: number[]) => Buffer.from(new Float32Array(values).buffer);
const inputFile = (values: number[]) => encodeIoFile(IO_KIND_INPUTS, [floats(values)]);

test('the C checks: round trips, resync, bad CRC, oversize and truncated frames', () => {
  const out = execFileSync(harness, ['selftest']).toString();
  expect(out).toMatch(/^frame: \d+ passed, 0 failed$/m);
});

test("es_crc32 gives zlib's CRC-32 for many lengths and contents", () => {
  for (const length of [0, 1, 3, 16, 255, 1000, 65537]) {
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++) bytes[i] = (i * 2654435761 + length) >>> 24;
    const device = Number(execFileSync(harness, ['crc'], { input: bytes }).toString().trim());
    expect(device).toBe(zlib.crc32(bytes));
  }
});

test('es_serve answers inputs, survives bad frames, and stops', async () => {
  const child = spawn(harness, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  const connection = new ServeConnection({ readable: child.stdout, writable: child.stdin });
  const ready = await waitForReady(connection, 10000);
  expect(ready).toEqual({ maxInputBytes: 256, model: 'stub-model' });
  expect(connection.lines).toContain('edgespec: model=stub-model inputs=1 outputs=2');

  const expectOutput = async (sequence: number, values: number[]) => {
    const answer = await connection.nextAnswer(10000);
    if (answer.kind !== 'frame') throw new Error(answer.reason);
    expect(answer.frame.type).toBe(FrameType.Output);
    expect(answer.frame.sequence).toBe(sequence);
    const output = decodeOutput(answer.frame.payload);
    expect(output.instructions).toBe(1000n);
    expect(output.invokeNs).toBeGreaterThan(0n);
    const [y, sum] = decodeIoFile(output.outputsFile, IO_KIND_OUTPUTS, [16, 4]);
    expect(Array.from(new Float32Array(y.buffer.slice(y.byteOffset, y.byteOffset + 16)))).toEqual(values.map(v => 2 * v + 1));
    expect(sum.readFloatLE(0)).toBe(values.reduce((a, b) => a + b));
  };
  const expectError = async (sequence: number, code: FrameError, message: RegExp) => {
    const answer = await connection.nextAnswer(10000);
    if (answer.kind !== 'frame') throw new Error(answer.reason);
    expect(answer.frame.type).toBe(FrameType.Error);
    expect(answer.frame.sequence).toBe(sequence);
    const error = decodeError(answer.frame.payload);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  };

  await connection.sendFrame(FrameType.Input, 1, inputFile([1, 2, 3, 4]));
  await expectOutput(1, [1, 2, 3, 4]);

  const damaged = encodeFrame(FrameType.Input, 2, inputFile([5, 6, 7, 8]));
  damaged[100] ^= 0x10;
  await connection.send(damaged);
  await expectError(2, FrameError.Crc, /frame 2 .*CRC-32/);

  await connection.sendFrame(FrameType.Input, 3, Buffer.alloc(300));
  await expectError(3, FrameError.Length, /300 payload bytes, more than this device's 256/);

  await connection.sendFrame(FrameType.Input, 4, inputFile([1, 2, 3]).subarray(0, 128));
  await expectError(4, FrameError.BadInput, /input frame 4: tensor 0 is 12 bytes, the model expects 16/);

  await connection.sendFrame(FrameType.Input, 5, inputFile([-1, 0, 0, 0]));
  await expectError(5, FrameError.Model, /es_model_invoke failed with 1 on input frame 5/);

  await connection.sendFrame(FrameType.Ready, 6);
  await expectError(6, FrameError.Type, /type 1; a device takes INPUT \(2\) and STOP \(5\)/);

  // half a frame, then silence: dropped after ES_FRAME_BYTE_TIMEOUT_MS
  const started = Date.now();
  await connection.send(encodeFrame(FrameType.Input, 7, inputFile([1, 1, 1, 1])).subarray(0, 50));
  await expectError(7, FrameError.Timeout, /stopped arriving for 2000 ms/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1900);

  await connection.sendFrame(FrameType.Input, 8, inputFile([0.5, -2, 10, 0]));
  await expectOutput(8, [0.5, -2, 10, 0]);

  await connection.sendFrame(FrameType.Stop, 9);
  expect(await exited).toBe(0);
  expect(connection.lines).toContain('edgespec: status=ok');
});

test('runServeSession streams inputs in order and reports a bad one without stopping', async () => {
  const child = spawn(harness, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  const progress: number[] = [];
  const inputs = [inputFile([1, 2, 3, 4]), inputFile([-1, 0, 0, 0]), Buffer.alloc(400), inputFile([0, 0, 0, 1])];
  const session = await runServeSession({ readable: child.stdout, writable: child.stdin }, inputs, { timeoutMs: 10000, onProgress: done => progress.push(done) });
  expect(progress).toEqual([1, 2, 3, 4]);
  expect(session.results.map(r => r.status)).toEqual(['ok', 'error', 'error', 'ok']);
  expect(session.results[1].error?.message).toMatch(/ERROR \(the model failed\): es_model_invoke failed/);
  expect(session.results[2].error).toEqual({ code: 'too-long', message: 'input 2 is 400 bytes, more than the 256 the device takes (READY\'s max_input_bytes)' });
  expect(session.results[2].attempts).toBe(0);
  expect(session.results[0].instructions).toBe(1000);
  expect(session.stopped).toBe(true);
  expect(await exited).toBe(0);
});

test('the device ends with an error when its port closes before STOP', async () => {
  const child = spawn(harness, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  const connection = new ServeConnection({ readable: child.stdout, writable: child.stdin });
  await waitForReady(connection, 10000);
  child.stdin.end();
  expect(await exited).toBe(2);
});
