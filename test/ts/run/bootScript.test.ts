// boot.sh, which every build writes: the same command line `edgespec run` starts (one
// argument list, src/toolchain/guest/guestArgs.ts), fixed text whatever the values, and its
// input check. The commands it execs are stand-ins that print their arguments: real shell,
// real processes, the real script.
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { bootScript } from '../../../src/toolchain/guest/bootScript';
import { executableArgs, GuestSpec, linuxEmulatorArgs, qemuVirtArgs } from '../../../src/toolchain/guest/guestArgs';
import { encodedIoFileBytes } from '../../../src/toolchain/guest/ioFile';
import { loadTarget } from '../../../src/toolchain/build/targets';

let workDir: string;
const INPUT_BYTES = encodedIoFileBytes([48]);
const PRINT_ARGS = '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n';

beforeAll(async () => {
  workDir = await fs.mkdtemp(path.join(tmpdir(), 'edgespec boot script '));
});

afterAll(async () => {
  await fs.rm(workDir, { recursive: true, force: true });
});

function platformSpec(target: 'qemu-virt' | 'host' | 'linux'): GuestSpec {
  const t = loadTarget(target);
  return {
    target,
    ...(t.qemu ? { qemu: { machine: t.qemu.machine, cpu: t.qemu.cpu, memory: t.qemu.memory, inputAddress: t.qemu.input_address } } : {}),
    ...(target !== 'qemu-virt' ? { hostArgv: ['INPUT_FILE', 'OUTPUT_FILE'] as ('INPUT_FILE' | 'OUTPUT_FILE')[] } : {}),
    ...(t.userMode ? { userMode: { cpu: t.userMode.cpu } } : {})
  };
}

/** A build folder holding boot.sh and an image that prints its arguments, and a bin/ of stand-ins for QEMU. */
async function folderWith(name: string, spec: GuestSpec): Promise<{ dir: string; bin: string }> {
  const dir = path.join(workDir, name, 'build dir');
  const bin = path.join(workDir, name, 'bin');
  await fs.mkdir(dir, { recursive: true });
  await fs.mkdir(bin, { recursive: true });
  await fs.writeFile(path.join(dir, 'boot.sh'), bootScript({ spec, image: 'image.elf', inputFileBytes: INPUT_BYTES }), { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'image.elf'), PRINT_ARGS, { mode: 0o755 });
  for (const tool of ['qemu-system-aarch64', 'qemu-aarch64']) await fs.writeFile(path.join(bin, tool), PRINT_ARGS, { mode: 0o755 });
  // the few system tools the script uses; nothing else is on its PATH (no real QEMU)
  for (const tool of ['sh', 'dirname', 'wc', 'uname']) {
    const { stdout } = await execa('sh', ['-c', `command -v ${tool}`]);
    await fs.symlink(stdout.trim(), path.join(bin, tool));
  }
  await fs.writeFile(path.join(dir, 'input.bin'), Buffer.alloc(INPUT_BYTES));
  return { dir, bin };
}

async function boot(folder: { dir: string; bin: string }, args: string[] = []) {
  return execa(path.join(folder.dir, 'boot.sh'), args, { cwd: workDir, reject: false, env: { PATH: folder.bin }, extendEnv: false });
}

describe('boot.sh starts the image with the argument list edgespec run uses', () => {
  test('qemu-virt: the run\'s QEMU arguments, with the folder\'s image and the given input', async () => {
    const spec = platformSpec('qemu-virt');
    const folder = await folderWith('qemu', spec);
    const input = path.join(folder.dir, 'input.bin');
    const ran = await boot(folder);
    expect(ran.exitCode).toBe(0);
    expect(ran.stdout.split('\n')).toEqual(qemuVirtArgs(spec.qemu!, { image: path.join(folder.dir, 'image.elf'), input, output: 'output.bin' }));
  });

  test('host: the executable with the input and output.bin in the order build.json gives', async () => {
    const spec = { ...platformSpec('host'), hostArgv: ['OUTPUT_FILE', 'INPUT_FILE'] as ('INPUT_FILE' | 'OUTPUT_FILE')[] };
    const folder = await folderWith('host', spec);
    const ran = await boot(folder);
    expect(ran.exitCode).toBe(0);
    expect(ran.stdout.split('\n')).toEqual(executableArgs(spec, { image: '', input: path.join(folder.dir, 'input.bin'), output: 'output.bin' }));
  });

  test('linux: under qemu-aarch64 with the CPU it was built for (natively on an ARM64 Linux machine)', async () => {
    const spec = platformSpec('linux');
    const folder = await folderWith('linux', spec);
    const files = { image: path.join(folder.dir, 'image.elf'), input: path.join(folder.dir, 'input.bin'), output: 'output.bin' };
    const ran = await boot(folder);
    expect(ran.exitCode).toBe(0);
    const native = process.platform === 'linux' && process.arch === 'arm64';
    expect(ran.stdout.split('\n')).toEqual(native ? executableArgs(spec, files) : linuxEmulatorArgs(spec, files));
  });
});

test('an input of the wrong size is refused before the image starts, naming both sizes', async () => {
  const folder = await folderWith('wrong', platformSpec('qemu-virt'));
  const wrong = path.join(workDir, 'wrong.bin');
  await fs.writeFile(wrong, Buffer.alloc(100));
  const ran = await boot(folder, [wrong]);
  expect(ran.exitCode).toBe(2);
  expect(ran.stdout).toBe('');
  expect(ran.stderr).toContain(`is 100 bytes; this image takes an edgespec input file of ${INPUT_BYTES} bytes`);
});

test('a missing QEMU is named with the package that installs it', async () => {
  const folder = await folderWith('noqemu', platformSpec('qemu-virt'));
  await fs.rm(path.join(folder.bin, 'qemu-system-aarch64'));
  const ran = await boot(folder);
  expect(ran.exitCode).toBe(127);
  expect(ran.stderr).toContain('qemu-system-aarch64 is missing; install it with: apt-get install qemu-system-arm');
});

describe('boot.sh is fixed text', () => {
  test('it parses as one script for every target, and holds no value but the platform\'s own and the input size', async () => {
    for (const target of ['qemu-virt', 'host', 'linux'] as const) {
      const script = bootScript({ spec: platformSpec(target), image: 'image.elf', inputFileBytes: INPUT_BYTES });
      await execa('sh', ['-n', '-c', script]);
      expect(script).not.toMatch(/[`;&|<>]\s*touch|\$\((?!cd |dirname |wc |uname )/);
    }
  });

  test.each([
    ['machine', 'virt,dumpdtb=/tmp/x'],
    ['cpu', 'max -monitor stdio'],
    ['memory', '$(touch PWNED)'],
    ['inputAddress', "0x70000000'; touch PWNED; '"]
  ])('a QEMU %s of %s is refused, or stays one plain word: never shell text in the script', (field, value) => {
    const spec = platformSpec('qemu-virt');
    const qemu = { ...spec.qemu!, [field]: value };
    if (field === 'machine') {
      // a comma is part of QEMU's own syntax: the value stays one quoted-safe word, never shell text
      const script = bootScript({ spec: { ...spec, qemu }, image: 'image.elf', inputFileBytes: INPUT_BYTES });
      expect(script).toContain('-M virt,dumpdtb=/tmp/x');
      return;
    }
    expect(() => bootScript({ spec: { ...spec, qemu }, image: 'image.elf', inputFileBytes: INPUT_BYTES })).toThrow(/not a plain QEMU option/);
  });

  test.each(['x;touch PWNED', '../image.elf', 'a b', '.hidden', '-rf'])('an image name that is not a plain file name (%s) is refused', image => {
    expect(() => bootScript({ spec: platformSpec('host'), image, inputFileBytes: INPUT_BYTES })).toThrow(/not a plain file name/);
  });
});
