// `edgespec run` on tiny real images: hand-written models linked with the real platforms,
// booted in the real QEMU (or run natively), compared with a bundle captured by the real capture.
import { mkdtempSync, promises as fs, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { RunReport } from '../../../src/common/types';
import { main } from '../../../src/toolchain/cli';
import { createReporter } from '../../../src/toolchain/events';
import { parseNpy } from '../../../src/toolchain/run/npy';
import { runBuild, RunOutcome } from '../../../src/toolchain/run/runBuild';
import { runFailureError } from '../../../src/toolchain/run/runFailure';
import { captureFromSource } from './captureHelper';
import { buildToyImage, DOUBLE_MODEL, toyModelSource, writeToyManifest } from './toyGuest';

const COUNT = 8;
/** The toy images every test may use: name -> target and model body (C over in, out). */
const TOYS: Record<string, { target: 'qemu-virt' | 'host'; body: string }> = {
  ok: { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i];' },
  wrong: { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i] + (i == 3 ? 0.5f : 0.0f);' },
  fault: { target: 'qemu-virt', body: 'out[0] = *(volatile float *)0x100000000ull;' },
  hang: { target: 'qemu-virt', body: 'for (;;) __asm__ volatile("" ::: "memory");' },
  'host-ok': { target: 'host', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i];' },
  'host-fault': { target: 'host', body: 'out[0] = *(volatile float *)8;' }
};

let root: string;
let bundle: string;
const quiet = createReporter(true, () => undefined, () => undefined);
const toy = (name: keyof typeof TOYS) => path.join(root, name);

async function buildToy(name: string): Promise<() => Promise<void>> {
  const { target, body } = TOYS[name];
  const image = await buildToyImage(target, path.join(root, name), toyModelSource(COUNT, body));
  return () => writeToyManifest(path.join(root, name), target, image, COUNT, bundle);
}

async function run(buildDir: string, extra: { inputFile?: string; timeoutS?: number } = {}): Promise<RunOutcome> {
  return runBuild({ buildDir, reporter: quiet, ...extra });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-run-guests-'));
  const [captured, ...writeManifests] = await Promise.all([captureFromSource(root, DOUBLE_MODEL, 'double', `1x${COUNT}`), ...Object.keys(TOYS).map(buildToy)]);
  bundle = captured as string;
  for (const write of writeManifests as (() => Promise<void>)[]) await write();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('qemu-virt', () => {
  it('boots, agrees with the reference and writes run.json and the outputs', async () => {
    const dir = toy('ok');
    const { report, runJson } = await run(dir);
    expect(report.status).toBe('ok');
    expect(report.exit_code).toBe(0);
    expect(report.agreement).toMatchObject({ max_abs_error: 0, within_tolerance: true, top1_match: true, top5_match: true });
    expect(report.guest_instructions!.value).toBeGreaterThan(0);
    expect(report.guest_instructions!.value).toBeLessThan(1000);
    expect(report.wall_ms.value).toBeGreaterThan(0);
    expect(report.console).toContain('edgespec: status=ok');
    expect(report.input).toContain('reference input');
    expect(JSON.parse(await fs.readFile(runJson, 'utf8'))).toEqual(report);
    const saved = parseNpy(await fs.readFile(path.join(dir, report.outputs[0].file)));
    expect(saved.shape).toEqual([1, COUNT]);
    const values = new Float32Array(saved.data.buffer.slice(saved.data.byteOffset, saved.data.byteOffset + saved.data.length));
    expect(Array.from(values)).toEqual(report.outputs[0].first);
  });

  it('reports a mismatch when the image computes something else', async () => {
    const dir = toy('wrong');
    const outcome = await run(dir);
    expect(outcome.report.status).toBe('mismatch');
    expect(outcome.report.agreement!.within_tolerance).toBe(false);
    expect(outcome.report.agreement!.max_abs_error).toBeCloseTo(0.5, 5);
    const error = runFailureError(outcome);
    expect(error.code).toBe('run-mismatch');
    expect(error.message).toMatch(/max abs error 5\.000e-1 > tolerance/);
  });

  it('reports a fault with its exception class, address and symbol', async () => {
    const dir = toy('fault');
    const outcome = await run(dir);
    const { report } = outcome;
    expect(report.status).toBe('fault');
    expect(report.exit_code).toBe(3);
    expect(report.fault!.exception_class).toMatch(/data abort \(same EL\).*translation fault.*read \(EC 0x25\)/);
    expect(report.fault!.address).toBe('0x100000000');
    expect(report.fault!.symbol).toMatch(/^es_model_invoke\+0x[0-9a-f]+ \(pc 0x4[0-9a-f]+\)$/);
    expect(report.fault!.esr).toMatch(/^0x9[0-9a-f]+$/);
    expect(runFailureError(outcome).message).toMatch(/^the guest faulted: .* at 0x100000000 in es_model_invoke/);
  });

  it('stops a hung guest after the timeout', async () => {
    const dir = toy('hang');
    const outcome = await run(dir, { timeoutS: 2 });
    expect(outcome.report.status).toBe('timeout');
    expect(outcome.report.exit_code).toBeNull();
    expect(outcome.report.wall_ms.value).toBeGreaterThanOrEqual(2000);
    expect(outcome.report.wall_ms.value).toBeLessThan(10000);
    expect(outcome.report.console).toContain('model=toy'); // it booted, then hung in the model
    const error = runFailureError(outcome);
    expect(error.code).toBe('run-timeout');
    expect(error.message).toContain('did not finish within 2 s');
    expect(error.hint).toContain('--timeout');
  });

  it('runs another input without comparing it, and compares an input equal to the reference', async () => {
    const dir = toy('ok');
    const other = path.join(root, 'other.bin');
    await fs.writeFile(other, Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
    const { report } = await run(dir, { inputFile: other });
    expect(report.status).toBe('ok');
    expect(report.agreement).toBeUndefined();
    expect(report.outputs[0].first).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('rejects an input of the wrong size or dtype before booting, and leaves no run.json of an earlier run', async () => {
    const dir = toy('ok');
    await run(dir);
    const before = await fs.readFile(path.join(dir, 'run.json'), 'utf8');
    const short = path.join(root, 'short.bin');
    await fs.writeFile(short, Buffer.alloc(12));
    await expect(run(dir, { inputFile: short })).rejects.toThrow(/short\.bin has 12 bytes but the model's input 'x' \(float32 \[1, 8\], 32 bytes\) needs 32 bytes/);
    const ints = path.join(root, 'ints.npy');
    const { encodeNpy } = await import('../../../src/toolchain/run/npy');
    await fs.writeFile(ints, encodeNpy({ dtype: 'int32', shape: [1, 8], data: Buffer.alloc(32) }));
    await expect(run(dir, { inputFile: ints })).rejects.toThrow(/is int32 but the model's input 'x' .* is float32/);
    // the earlier run.json said ok: left beside a failed attempt it would describe a run that is not the last
    expect(JSON.parse(before).status).toBe('ok');
    expect(await fs.readdir(dir)).not.toContain('run.json');
    expect(await fs.readdir(dir)).not.toContain('run-outputs');
  });

  it('says what is wrong with a directory that is not a build', async () => {
    await expect(run(root)).rejects.toMatchObject({ code: 'build-not-found', message: expect.stringContaining('has no build.json') });
    await expect(run(path.join(root, 'nope'))).rejects.toMatchObject({ message: expect.stringContaining('does not exist') });
  });
});

describe('host', () => {
  it('runs natively and agrees with the reference', async () => {
    const dir = toy('host-ok');
    const { report } = await run(dir);
    expect(report.status).toBe('ok');
    expect(report.target).toBe('host');
    expect(report.agreement!.within_tolerance).toBe(true);
    expect(report.guest_instructions).toBeUndefined();
  });

  it('reports a fatal signal as a fault', async () => {
    const dir = toy('host-fault');
    const { report } = await run(dir);
    expect(report.status).toBe('fault');
    expect(report.fault).toMatchObject({ exception_class: 'signal SIGSEGV', address: '0x8' });
  });
});

describe('the run command', () => {
  async function cli(args: string[]): Promise<{ events: { event: string; [k: string]: unknown }[]; exitCode: number }> {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    const previous = process.exitCode;
    process.exitCode = 0;
    try {
      await main(args);
      return { events: lines.map(l => JSON.parse(l)), exitCode: Number(process.exitCode ?? 0) };
    } finally {
      write.mockRestore();
      process.exitCode = previous;
    }
  }

  it('prints the report as a result event and exits 0 on agreement', async () => {
    const { events, exitCode } = await cli(['run', toy('ok'), '--json']);
    expect(exitCode).toBe(0);
    const result = events.find(e => e.event === 'result') as unknown as { data: RunReport };
    expect(result.data.status).toBe('ok');
    expect(events.some(e => e.event === 'progress')).toBe(true);
    expect(events.some(e => e.event === 'error')).toBe(false);
  });

  it('prints the report and then the error, and exits 1, on a fault', async () => {
    const { events, exitCode } = await cli(['run', toy('fault'), '--json']);
    expect(exitCode).toBe(1);
    const kinds = events.map(e => e.event).filter(k => k !== 'progress');
    expect(kinds).toEqual(['result', 'error']);
    expect(events[events.length - 1]).toMatchObject({ code: 'run-fault', details: { status: 'fault' } });
  });

  it('refuses a bad --timeout as a usage error', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const { exitCode } = await cli(['run', toy('ok'), '--timeout', 'soon', '--json']);
      expect(exitCode).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });
});

it('leaves no temporary working directory behind', async () => {
  const privateTmp = path.join(root, 'tmp');
  await fs.mkdir(privateTmp);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = privateTmp;
  try {
    expect((await run(toy('ok'))).report.status).toBe('ok');
    expect((await run(toy('hang'), { timeoutS: 1 })).report.status).toBe('timeout');
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  expect(await fs.readdir(privateTmp)).toEqual([]);
});

describe('the Python API (edgespec.api.run over the compiled CLI)', () => {
  // Runs Python code with `edgespec` importable; the code prints one JSON line.
  async function python(code: string): Promise<Record<string, unknown>> {
    const { locatePython, pythonEnv } = await import('../../../src/toolchain/tools/locate');
    const execa = (await import('execa')).default;
    const result = await execa(locatePython().path!, ['-c', code], { env: pythonEnv(), extendEnv: false, reject: false });
    if (result.exitCode !== 0) throw new Error(`python failed:\n${result.stdout}\n${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!);
  }

  it('returns the run report, relays events, and takes a NumPy array as input', async () => {
    const out = await python(`
import json, numpy as np
from edgespec.api import run
events = []
report = run(${JSON.stringify(toy('ok'))}, on_event=events.append)
other = run(${JSON.stringify(toy('ok'))}, input=np.arange(8, dtype=np.float32).reshape(1, 8))
print(json.dumps({"status": report["status"], "within": report["agreement"]["within_tolerance"],
                  "kinds": sorted({e["event"] for e in events}), "first": other["outputs"][0]["first"]}))
`);
    expect(out).toEqual({ status: 'ok', within: true, kinds: ['progress', 'result'], first: [0, 2, 4, 6, 8, 10, 12, 14] });
  });

  it('raises RunFailedError carrying the report on a fault, and ToolchainError on bad input', async () => {
    const out = await python(`
import json, numpy as np
from edgespec import ToolchainError
from edgespec.api import run, RunFailedError
try:
    run(${JSON.stringify(toy('fault'))})
except RunFailedError as e:
    fault = {"code": e.code, "status": e.report["status"], "address": e.report["fault"]["address"], "hint": bool(e.hint)}
try:
    run(${JSON.stringify(toy('ok'))}, input=np.zeros((1, 8), dtype=np.float64))
except RunFailedError:
    bad = "wrong class"
except ToolchainError as e:
    bad = {"code": e.code, "float64": "float64" in e.message}
print(json.dumps({"fault": fault, "bad": bad}))
`);
    expect(out).toEqual({ fault: { code: 'run-fault', status: 'fault', address: '0x100000000', hint: true }, bad: { code: 'input-invalid', float64: true } });
  });
});
