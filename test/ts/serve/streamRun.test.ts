/**
 * Serve mode end to end with a captured model: `edgespec run --inputs` through one boot of
 * the host executable, the linux executable under qemu-aarch64, the qemu-virt image
 * (semihosting FIFOs and the PL011 UART) and rpi3's kernel8.img under raspi3b (its UART),
 * each step agreeing with PyTorch; bad frames sent to
 * the real qemu-virt image over its UART (a damaged CRC, an oversize length, a half frame)
 * get ERROR frames and the next good frame its OUTPUT; a serial session over a
 * pseudo-terminal pair (socat) with the host executable at the far end.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { buildBundle } from '../../../src/toolchain/build/buildBundle';
import { createReporter } from '../../../src/toolchain/events';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../../../src/toolchain/guest/ioFile';
import { readBuildDir } from '../../../src/toolchain/run/buildDir';
import { parseNpy } from '../../../src/toolchain/run/npy';
import { startServingGuest } from '../../../src/toolchain/run/servingGuest';
import { runStream } from '../../../src/toolchain/run/streamRun';
import { ServeConnection } from '../../../src/toolchain/serve/connection';
import { decodeError, decodeOutput, encodeFrame, FrameError, FrameType } from '../../../src/toolchain/serve/frame';
import { waitForReady } from '../../../src/toolchain/serve/session';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';
import { captureFromSource } from '../run/captureHelper';

const MODEL = `
import torch
from torch import nn

def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)).eval()
`;
const STEPS = 12;

let root: string;
let bundle: string;
const events: string[] = [];
const reporter = createReporter(true, line => events.push(line), () => undefined);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-serve-'));
  bundle = await captureFromSource(root, MODEL, 'tiny', '1x3x16x16');
  // the steps and PyTorch's outputs for them
  execFileSync(locatePython().path!, ['-c', `
import sys, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(root)})
from tiny_model import tiny
m = tiny()
x = np.random.default_rng(1).standard_normal((${STEPS}, 1, 3, 16, 16)).astype(np.float32)
np.save(${JSON.stringify(path.join(root, 'inputs.npy'))}, x)
with torch.no_grad():
    np.save(${JSON.stringify(path.join(root, 'expected.npy'))}, np.stack([m(torch.from_numpy(s)).numpy() for s in x]))
`], { env: pythonEnv() });
  for (const target of ['host', 'linux', 'qemu-virt', 'rpi3'] as const) await buildBundle({ bundleDir: bundle, target, outDir: path.join(root, target) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const inputs = () => path.join(root, 'inputs.npy');
const expected = () => path.join(root, 'expected.npy');

it.each([
  ['host', undefined],
  ['linux', undefined],
  ['qemu-virt', 'semihost'],
  ['qemu-virt', 'uart'],
  ['rpi3', undefined]
] as const)('%s (%s) streams every input through one boot and each agrees with PyTorch', async (target, port) => {
  const buildDir = path.join(root, target);
  const { report } = await runStream({ buildDir, inputs: inputs(), expected: expected(), port, timeoutS: 60, reporter });
  expect(report.error).toBeUndefined();
  expect(report.status).toBe('ok');
  const stream = report.stream!;
  expect(stream.inputs).toBe(STEPS);
  expect(stream.answered).toBe(STEPS);
  expect(stream.agreeing).toBe(STEPS);
  for (const step of stream.steps) {
    expect(step.agreement!.max_abs_error).toBeLessThanOrEqual(step.agreement!.tolerance);
    expect(step.agreement!.top5).toEqual(step.agreement!.reference_top5);
  }
  if (target === 'qemu-virt' || target === 'rpi3') expect(stream.steps.every(s => s.guest_instructions! > 100_000)).toBe(true);
  else expect(stream.steps.every(s => s.invoke_ns! > 0)).toBe(true);
  // one output file per step, and run.json says the same as the report
  const outputs = readdirSync(path.join(buildDir, 'run-outputs')).sort();
  expect(outputs).toEqual(Array.from({ length: STEPS }, (_, i) => `${String(i).padStart(4, '0')}.npy`));
  const last = parseNpy(readFileSync(path.join(buildDir, 'run-outputs', outputs[STEPS - 1])));
  expect(last.shape).toEqual([1, 10]);
  expect(JSON.parse(readFileSync(path.join(buildDir, 'run.json'), 'utf8')).stream.agreeing).toBe(STEPS);
  expect(events.some(e => e.includes(`"done":${STEPS},"total":${STEPS}`))).toBe(true);
});

it('the qemu-virt image answers damaged, oversize and unfinished frames with ERROR and stays up (UART)', async () => {
  const build = await readBuildDir(path.join(root, 'qemu-virt'));
  const work = mkdtempSync(path.join(root, 'uart-'));
  const guest = await startServingGuest(build, work, 120, 'uart');
  try {
    const connection = new ServeConnection(guest.streams);
    const ready = await waitForReady(connection, 30000);
    expect(ready.model).toBe('tiny');
    const x = Buffer.from(new Float32Array(3 * 16 * 16).map((_, i) => Math.cos(i)).buffer);
    const good = encodeIoFile(IO_KIND_INPUTS, [x]);
    const answer = async (sequence: number) => {
      const a = await connection.nextAnswer(60000);
      if (a.kind !== 'frame') throw new Error(a.reason);
      expect(a.frame.sequence).toBe(sequence);
      return a.frame;
    };
    const expectError = async (sequence: number, code: FrameError, message: RegExp) => {
      const frame = await answer(sequence);
      expect(frame.type).toBe(FrameType.Error);
      const error = decodeError(frame.payload);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    };

    const damaged = encodeFrame(FrameType.Input, 1, good);
    damaged[700] ^= 0x01;
    await connection.send(damaged);
    await expectError(1, FrameError.Crc, /frame 1 \(\d+ bytes\) failed its CRC-32 check/);

    await connection.sendFrame(FrameType.Input, 2, good);
    const first = await answer(2);
    expect(first.type).toBe(FrameType.Output);
    const output = decodeOutput(first.payload);
    expect(output.instructions).toBeGreaterThan(100_000n);
    const [y] = decodeIoFile(output.outputsFile, IO_KIND_OUTPUTS, [40]);

    // a header announcing more than the 256 MiB input region: drained until the bytes stop, then refused
    const huge = encodeFrame(FrameType.Input, 3).subarray(0, 16);
    huge.writeUInt32LE(0x20000000, 12);
    await connection.send(huge);
    await expectError(3, FrameError.Length, /536870912 payload bytes, more than this device's 268435456/);

    await connection.send(encodeFrame(FrameType.Input, 4, good).subarray(0, 100));
    await expectError(4, FrameError.Timeout, /stopped arriving for 2000 ms/);

    await connection.sendFrame(FrameType.Input, 5, good);
    const again = await answer(5);
    expect(again.type).toBe(FrameType.Output);
    expect(decodeIoFile(decodeOutput(again.payload).outputsFile, IO_KIND_OUTPUTS, [40])[0]).toEqual(y);

    await connection.sendFrame(FrameType.Stop, 6);
    expect((await guest.exited).exitCode).toBe(0);
    expect(guest.console()).toMatch(/edgespec: status=ok/);
  } finally {
    guest.kill();
  }
});

describe('a serial device', () => {
  let socat: ChildProcess | undefined;
  let board: ChildProcess | undefined;
  afterEach(() => {
    board?.kill('SIGKILL');
    socat?.kill('SIGKILL');
  });

  const ptyPair = async (dir: string) => {
    const host = path.join(dir, 'tty-host');
    const far = path.join(dir, 'tty-board');
    socat = spawn('socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${far}`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(existsSync(host) && existsSync(far)); i++) await new Promise(r => setTimeout(r, 50));
    return { host, far };
  };

  it('streams through a pseudo-terminal to the host executable serving on the other end', async () => {
    const dir = mkdtempSync(path.join(root, 'pty-'));
    const { host, far } = await ptyPair(dir);
    const build = await readBuildDir(path.join(root, 'host'));
    const running = runStream({ buildDir: build.dir, inputs: inputs(), expected: expected(), serial: host, baud: 921600, timeoutS: 30, reporter });
    // "power on the board" once the host listens: it sends READY when it starts
    await new Promise(r => setTimeout(r, 1000));
    const fd = openSync(far, 'r+');
    board = spawn(build.image, ['--serve'], { stdio: [fd, fd, 'ignore'] });
    const { report } = await running;
    expect(report.status).toBe('ok');
    expect(report.stream!.port).toBe(`serial device ${host} at 921600 baud`);
    expect(report.stream!.agreeing).toBe(STEPS);
  });

  it("checks a board with the bundle's reference input when --serial comes without --inputs", async () => {
    const dir = mkdtempSync(path.join(root, 'pty-'));
    const { host, far } = await ptyPair(dir);
    const build = await readBuildDir(path.join(root, 'host'));
    const running = runStream({ buildDir: build.dir, serial: host, baud: 921600, timeoutS: 30, reporter });
    await new Promise(r => setTimeout(r, 1000));
    const fd = openSync(far, 'r+');
    board = spawn(build.image, ['--serve'], { stdio: [fd, fd, 'ignore'] });
    const { report } = await running;
    expect(report.status).toBe('ok');
    expect(report.stream!.steps.map(s => [s.input, s.status])).toEqual([["the bundle's reference input", 'ok']]);
    expect(report.stream!.agreeing).toBe(1);
  });

  it('says clearly when no device answers', async () => {
    const dir = mkdtempSync(path.join(root, 'pty-'));
    const { host } = await ptyPair(dir);
    const { report } = await runStream({ buildDir: path.join(root, 'host'), inputs: inputs(), serial: host, timeoutS: 1, reporter });
    expect(report.status).toBe('timeout');
    expect(report.error).toMatch(/the device sent no READY frame within 1000 ms/);
    expect(report.stream!.steps.every(s => s.status === 'not-run')).toBe(true);
  });

  it('refuses a device that is not a terminal', async () => {
    await expect(runStream({ buildDir: path.join(root, 'host'), inputs: inputs(), serial: path.join(root, 'inputs.npy'), reporter })).rejects.toThrow(/cannot set .*inputs.npy to 115200 baud/);
  });
});

it('refuses inputs that do not stack for the model', async () => {
  await expect(runStream({ buildDir: path.join(root, 'host'), inputs: expected(), reporter })).rejects.toThrow(/has shape \[12, 1, 10\]; steps of 'input' \[1, 3, 16, 16\] stack as \[N, 1, 3, 16, 16\]/);
});
