// Without QEMU, `edgespec run` of a qemu-virt build says what is missing and how to install it.
// (Its own file: the doctor remembers what it found once per module registry.)
import { mkdtempSync, promises as fs, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { createReporter } from '../../../src/toolchain/events';
import { runBuild } from '../../../src/toolchain/run/runBuild';
import { buildToyImage, toyModelSource, writeToyManifest } from './toyGuest';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-run-noqemu-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('names QEMU and its install command, and writes no run.json', async () => {
  const dir = path.join(root, 'build');
  const image = await buildToyImage('qemu-virt', dir, toyModelSource(4, 'out[0] = in[0];'));
  await writeToyManifest(dir, 'qemu-virt', image, 4, path.join(root, 'no-bundle'));
  const input = path.join(root, 'input.bin');
  await fs.writeFile(input, Buffer.alloc(16));
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(root, 'empty-bin');
  try {
    await expect(runBuild({ buildDir: dir, inputFile: input, reporter: createReporter(true, () => undefined, () => undefined) })).rejects.toMatchObject({
      code: 'missing-tool',
      message: expect.stringContaining('qemu-system-aarch64'),
      hint: 'install with: apt-get install -y qemu-system-arm'
    });
  } finally {
    process.env.PATH = savedPath;
  }
  expect((await fs.readdir(dir)).includes('run.json')).toBe(false);
});
