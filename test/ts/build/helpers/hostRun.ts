import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { BuildManifest } from '../../../../src/common/types';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../../../../src/toolchain/guest/ioFile';

/** Runs a host build's executable on the given inputs (in the bundle's layout) and returns its outputs. */
export async function runHostImage(buildDir: string, inputs: Float32Array[]): Promise<Float32Array[]> {
  const manifest = JSON.parse(await fs.readFile(path.join(buildDir, 'build.json'), 'utf8')) as BuildManifest;
  const inputFile = path.join(buildDir, 'test-input.bin');
  const outputFile = path.join(buildDir, 'test-output.bin');
  await fs.writeFile(inputFile, encodeIoFile(IO_KIND_INPUTS, inputs.map(t => new Uint8Array(t.buffer, t.byteOffset, t.byteLength))));
  const run = await execa(path.join(buildDir, manifest.image), [inputFile, outputFile], { reject: false, all: true });
  if (run.exitCode !== 0) throw new Error(`host image exited with ${run.exitCode}:\n${run.all}`);
  const tensors = decodeIoFile(await fs.readFile(outputFile), IO_KIND_OUTPUTS, manifest.outputs.map(o => o.bytes));
  return tensors.map(b => {
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    return new Float32Array(copy.buffer);
  });
}

/** max |a - b| / max(|b|, floor). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  let scale = floor;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}
