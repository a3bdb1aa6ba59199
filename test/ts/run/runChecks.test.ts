// `edgespec run` through the real CLI on tiny real images (QEMU and host): NaN and Inf are
// counted and a non-finite answer fails; --timeout cannot overflow node's timer; build.json
// cannot make it run anything but the image it built, nor pass QEMU options of its own; and a
// failed run leaves no earlier run.json that claims ok.
import { createHash } from 'crypto';
import execa from 'execa';
import { existsSync, mkdtempSync, promises as fs, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BuildManifest, RunReport } from '../../../src/common/types';
import { createReporter } from '../../../src/toolchain/events';
import { encodeNpy } from '../../../src/toolchain/run/npy';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { buildToolchain, CliRun, expectNoStackTrace, jsonEvents, runCli } from '../foundation/cliProcess';
import { captureFromSource } from './captureHelper';
import { buildToyImage, DOUBLE_MODEL, toyModelSource, writeToyManifest } from './toyGuest';

const COUNT = 8;
const TOYS: Record<string, { target: 'qemu-virt' | 'host'; body: string }> = {
  ok: { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i];' },
  // ignores its input: finite outputs whatever comes in
  zero: { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 0.0f * (float)i;' },
  // sums its input into every output: one NaN in, eight out
  sum: { target: 'qemu-virt', body: 'float s = 0; for (int i = 0; i < 8; i++) s += in[i]; for (int i = 0; i < 8; i++) out[i] = s;' },
  'nan-out': { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i]; out[5] = __builtin_nanf("");' },
  'host-ok': { target: 'host', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i];' }
};

let root: string;
let bundle: string;
const toy = (name: string) => path.join(root, name);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-run-checks-'));
  const images = Object.entries(TOYS).map(async ([name, { target, body }]) => ({ name, target, image: await buildToyImage(target, toy(name), toyModelSource(COUNT, body)) }));
  const [captured, ...built] = await Promise.all([captureFromSource(root, DOUBLE_MODEL, 'double', `1x${COUNT}`), ...images, buildToolchain()]);
  bundle = captured as string;
  for (const b of built.filter(Boolean) as { name: string; target: 'qemu-virt' | 'host'; image: string }[]) {
    await writeToyManifest(toy(b.name), b.target, b.image, COUNT, bundle);
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function inputFile(name: string, values: number[]): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, encodeNpy({ dtype: 'float32', shape: [1, COUNT], data: Buffer.from(Float32Array.from(values).buffer) }));
  return file;
}

async function runJson(dir: string): Promise<RunReport> {
  return JSON.parse(await fs.readFile(path.join(dir, 'run.json'), 'utf8'));
}

function expectClearError(run: CliRun, exitCode: number, message: RegExp): void {
  expect(run.exitCode).toBe(exitCode);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toContain('this is a bug in edgespec');
  expectNoStackTrace(run);
}

describe('NaN and Inf', () => {
  it('one NaN in the input, NaN in every output: the run fails and says so (it used to print ok)', async () => {
    const nan = await inputFile('nan.npy', [1, 2, NaN, 4, 5, 6, 7, 8]);
    const run = await runCli(['run', toy('sum'), '--input', nan]);
    expectClearError(run, 1, /the outputs hold 8 NaN or infinite values \('output\.0' 8 of 8\) while the bundle's reference outputs are all finite; the input holds 1 NaN or infinite value \('x' 1 of 8\)/);
    expect(run.stdout).toMatch(/ERROR/);
    expect(run.stdout).toMatch(/non-finite +NaN or infinite values: input 1, outputs 8/);
    const report = await runJson(toy('sum'));
    expect(report.status).toBe('error');
    expect(report.non_finite).toEqual({ inputs: 1, outputs: 8 });
  });

  it('an infinite input value is counted the same way (--json)', async () => {
    const inf = await inputFile('inf.npy', [Infinity, 2, 3, 4, 5, 6, 7, -Infinity]);
    const run = await runCli(['run', toy('ok'), '--input', inf, '--json']);
    expect(run.exitCode).toBe(1);
    const events = jsonEvents(run.stdout);
    const result = events.find(e => e.event === 'result') as { data: RunReport };
    expect(result.data).toMatchObject({ status: 'error', non_finite: { inputs: 2, outputs: 2 } });
    expect(events[events.length - 1]).toMatchObject({ event: 'error', code: 'run-failed', message: expect.stringContaining("the outputs hold 2 NaN or infinite values ('output.0' 2 of 8)") });
  });

  it('a NaN input with finite outputs passes, and the count is reported', async () => {
    const nan = await inputFile('nan-zero.npy', [NaN, 2, 3, 4, 5, 6, 7, 8]);
    const run = await runCli(['run', toy('zero'), '--input', nan]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/non-finite +NaN or infinite values: input 1, outputs 0/);
    expect(await runJson(toy('zero'))).toMatchObject({ status: 'ok', non_finite: { inputs: 1, outputs: 0 } });
  });

  it('a NaN output for the reference input is a mismatch that names it', async () => {
    const run = await runCli(['run', toy('nan-out')]);
    expectClearError(run, 1, /the outputs disagree with the reference: 1 output value is NaN or infinite where the reference's are not/);
    expect(await runJson(toy('nan-out'))).toMatchObject({ status: 'mismatch', non_finite: { inputs: 0, outputs: 1 } });
  });

  it('a clean run reports zero non-finite values', async () => {
    const run = await runCli(['run', toy('ok'), '--json']);
    expect(run.exitCode).toBe(0);
    expect(await runJson(toy('ok'))).toMatchObject({ status: 'ok', non_finite: { inputs: 0, outputs: 0 } });
  });
});

describe('--timeout', () => {
  it.each(['2147484', '1e9', '86400.5'])('%s s is refused as a usage error that names the limit', async value => {
    const run = await runCli(['run', toy('ok'), '--timeout', value]);
    expectClearError(run, 2, /more than the 86400 s \(one day\) a run may take/);
  });

  it('a day is accepted, and the run is not stopped at once', async () => {
    const run = await runCli(['run', toy('ok'), '--timeout', '86400']);
    expect(run.exitCode).toBe(0);
  });

  it('through the API a timeout past node\'s timer limit does not fire at once (it used to, after ~14 ms)', async () => {
    const quiet = createReporter(true, () => undefined, () => undefined);
    const { report } = await runBuild({ buildDir: toy('ok'), timeoutS: 2147484, reporter: quiet });
    expect(report.status).toBe('ok');
  });
});

describe('build.json is confined to the build it describes', () => {
  /** A copy of a toy build whose build.json is changed by `edit`. */
  async function editedBuild(from: string, label: string, edit: (m: BuildManifest & Record<string, unknown>) => void): Promise<string> {
    const dir = path.join(root, label);
    await fs.cp(toy(from), dir, { recursive: true });
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'build.json'), 'utf8'));
    manifest.bundle = bundle;
    edit(manifest);
    await fs.writeFile(path.join(dir, 'build.json'), JSON.stringify(manifest));
    return dir;
  }

  /** A script that leaves a mark if anything runs it. */
  async function evilScript(): Promise<{ script: string; mark: string }> {
    const mark = path.join(root, 'PWNED');
    const script = path.join(root, 'evil.sh');
    await fs.writeFile(script, `#!/bin/sh\ntouch ${mark}\n`, { mode: 0o755 });
    return { script, mark };
  }

  it.each([
    ['a path out of the build directory', (script: string) => path.relative(path.join(root, 'x'), script)],
    ['an absolute path', (script: string) => script],
    ['a path into a subdirectory', () => 'sub/model']
  ])('image as %s is refused and nothing runs', async (label, image) => {
    const { script, mark } = await evilScript();
    const dir = await editedBuild('host-ok', `image-${label.replace(/\W+/g, '-')}`, m => {
      m.image = image(script);
    });
    const run = await runCli(['run', dir]);
    expectClearError(run, 1, /build\.json: image is missing or not the name of a file inside the build directory \(no directory part\)/);
    expect(existsSync(mark)).toBe(false);
  });

  it('an image replaced by a symbolic link out of the build directory is refused', async () => {
    const { script, mark } = await evilScript();
    const dir = await editedBuild('host-ok', 'image-symlink', () => undefined);
    await fs.rm(path.join(dir, 'model'));
    await fs.symlink(script, path.join(dir, 'model'));
    const run = await runCli(['run', dir]);
    expectClearError(run, 1, /model is a symbolic link, not the regular file edgespec build writes/);
    expect(existsSync(mark)).toBe(false);
  });

  it.each([
    ['host-ok', 'model'],
    ['ok', 'image.elf']
  ])('a changed image (%s) is refused with the fix: build again', async (from, image) => {
    const dir = await editedBuild(from, `changed-${from}`, () => undefined);
    await fs.appendFile(path.join(dir, image), Buffer.from([0]));
    const run = await runCli(['run', dir]);
    expectClearError(run, 1, /has sha256 [0-9a-f]{64}, but build\.json records [0-9a-f]{64}: the image was changed after it was built\n {2}fix: .*build it again: edgespec build/);
    expect(existsSync(path.join(dir, 'run.json'))).toBe(false);
  });

  it('a missing or malformed image_sha256 is refused', async () => {
    const dir = await editedBuild('host-ok', 'no-sha', m => {
      m.image_sha256 = 'x';
    });
    expectClearError(await runCli(['run', dir]), 1, /image_sha256 is missing or not a sha256 in 64 lowercase hex digits/);
  });

  it.each([
    ['machine', 'virt,dumpdtb=DTB'],
    ['machine', 'virt -append x'],
    ['cpu', 'max,pauth=off'],
    ['memory', '1G,slots=2'],
    ['input_address', '0x70000000,file=/etc/shadow']
  ])('qemu.%s %j is refused: only the platform\'s own values reach QEMU', async (field, value) => {
    const dtb = path.join(root, `dumped-${field}.dtb`);
    const dir = await editedBuild('ok', `qemu-${field}-${value.length}`, m => {
      (m.qemu as unknown as Record<string, string>)[field] = value.replace('DTB', dtb);
    });
    const run = await runCli(['run', dir]);
    expectClearError(run, 1, new RegExp(`build\\.json: qemu\\.${field} is ".*", but edgespec runs this target with "[^"]+"; build\\.json was edited`));
    expect(existsSync(dtb)).toBe(false);
  });

  it.each([
    ['emulator', 'sh'],
    ['cpu', 'max -d in_asm']
  ])('linux.%s %j is refused', async (field, value) => {
    const dir = await editedBuild('host-ok', `linux-${field}`, m => {
      m.target = 'linux';
      m.linux = { emulator: 'qemu-aarch64', cpu: 'cortex-a72', [field]: value };
    });
    expectClearError(await runCli(['run', dir]), 1, new RegExp(`build\\.json: linux\\.${field} is ".*", but edgespec runs this target with`));
  });

  it('tensor sizes that disagree with their shape are refused', async () => {
    const dir = await editedBuild('host-ok', 'bytes', m => {
      m.inputs[0].bytes = 2 ** 40;
    });
    expectClearError(await runCli(['run', dir]), 1, /inputs\[0\]\.bytes is missing or not the size of its dtype and shape \(32\)/);
  });

  it('a build.json that is not edgespec\'s is refused and its neighbours are left alone', async () => {
    const dir = path.join(root, 'site');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'build.json'), '{"name":"webpack"}');
    await fs.writeFile(path.join(dir, 'run.json'), 'precious');
    expectClearError(await runCli(['run', dir]), 1, /build\.json: format is missing or not "edgespec\.build"/);
    expect(await fs.readFile(path.join(dir, 'run.json'), 'utf8')).toBe('precious');
  });
});

describe('no stale results', () => {
  it('a failed run (bad input) removes the earlier run.json and outputs that said ok', async () => {
    const dir = path.join(root, 'stale-input');
    await fs.cp(toy('ok'), dir, { recursive: true });
    expect((await runCli(['run', dir])).exitCode).toBe(0);
    expect((await runJson(dir)).status).toBe('ok');
    const short = path.join(root, 'short.bin');
    await fs.writeFile(short, Buffer.alloc(12));
    expectClearError(await runCli(['run', dir, '--input', short]), 1, /short\.bin has 12 bytes/);
    expect(existsSync(path.join(dir, 'run.json'))).toBe(false);
    expect(existsSync(path.join(dir, 'run-outputs'))).toBe(false);
  });

  it('a full disk while writing run.json leaves neither the earlier ok run.json nor new outputs', async () => {
    // The build directory on a small tmpfs of its own (in a user and mount namespace): the first
    // run fits, then the disk is filled, and the second run's run.json (longer: its input's
    // path is) cannot be written.
    const staging = path.join(root, 'disk-full-staging');
    await fs.cp(toy('ok'), staging, { recursive: true });
    const manifest = JSON.parse(await fs.readFile(path.join(staging, 'build.json'), 'utf8'));
    await fs.writeFile(path.join(staging, 'build.json'), JSON.stringify({ ...manifest, bundle }));
    const deep = path.join(root, ...Array.from({ length: 15 }, (_, i) => `${'d'.repeat(200)}${i}`));
    await fs.mkdir(deep, { recursive: true });
    const longInput = await inputFile(path.relative(root, path.join(deep, 'x.npy')), [1, 2, 3, 4, 5, 6, 7, 8]);
    const mount = path.join(root, 'small-disk');
    await fs.mkdir(mount);
    const cli = `${JSON.stringify(process.execPath)} ${JSON.stringify(path.resolve('bin/edgespec'))}`;
    const script = `
set -u
mount -t tmpfs -o size=2m tmpfs "$MOUNT"
cp -a "$STAGING" "$MOUNT/build"
${cli} run "$MOUNT/build" > /dev/null 2>&1; echo "first=$?"
dd if=/dev/zero of="$MOUNT/fill" bs=4k > /dev/null 2>&1
${cli} run "$MOUNT/build" --input "$LONG" > /dev/null 2> "$MOUNT/../disk-full-stderr"; echo "second=$?"
ls -a "$MOUNT/build"
`;
    const result = await execa('unshare', ['-Urm', 'sh', '-c', script], { env: { MOUNT: mount, STAGING: staging, LONG: longInput }, reject: false });
    expect(result.stdout).toContain('first=0');
    expect(result.stdout).toContain('second=1');
    const stderr = await fs.readFile(path.join(root, 'disk-full-stderr'), 'utf8');
    expect(stderr).toMatch(/cannot write .*run\.json: ENOSPC/);
    const left = result.stdout.split('\n');
    expect(left).toContain('build.json');
    expect(left).not.toContain('run.json');
    expect(left).not.toContain('run-outputs');
    expect(left.filter(name => name.includes('.tmp'))).toEqual([]);
  });
});

it('every image the tests ran was the one their build.json records', async () => {
  for (const name of Object.keys(TOYS)) {
    const manifest = JSON.parse(await fs.readFile(path.join(toy(name), 'build.json'), 'utf8')) as BuildManifest;
    const bytes = await fs.readFile(path.join(toy(name), manifest.image));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.image_sha256);
  }
});
