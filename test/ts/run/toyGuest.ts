// Test helper: builds tiny real images around hand-written "models" with the platforms of
// kernels/platform (their build.json gives compiler, flags and sources), and writes the
// build.json a real build would, so `edgespec run` can be tested without the build stage.
import { createHash } from 'crypto';
import execa from 'execa';
import { promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import { BuildManifest, BuildTensor } from '../../../src/common/types';
import { parseElf } from '../../../src/toolchain/build/elf';
import { emitSymbolTable, functionSymbols } from '../../../src/toolchain/build/symbolTable';
import { repoFiles } from '../../../src/toolchain/paths';

type Target = 'qemu-virt' | 'host';

interface PlatformBuildFile {
  cc: string;
  cflags: string[];
  ldflags: string[];
  libs: string[];
  sources: string[];
  qemu?: { args: string[] };
}

function platform(target: Target): PlatformBuildFile {
  return JSON.parse(readFileSync(path.join(repoFiles.kernelsDir, 'platform', target, 'build.json'), 'utf8'));
}

/** A model of one float32 input and one float32 output of `count` values, computing `body` (C, over in/out/i). */
export function toyModelSource(count: number, body: string): string {
  const bytes = count * 4;
  return `#include "edgespec/model.h"
static const uint32_t in_bytes[1] = {${bytes}u};
static const uint32_t out_bytes[1] = {${bytes}u};
const es_model_info es_model = {"toy", 1, 1, in_bytes, out_bytes};
int es_model_invoke(const float *const *inputs, float *const *outputs) {
  const float *in = inputs[0];
  float *out = outputs[0];
  ${body}
  return 0;
}
`;
}

/** Compiles each source with the platform's cflags, then links with its ldflags, as the build does. */
async function compileAndLink(target: Target, dir: string, sources: string[], image: string): Promise<void> {
  const p = platform(target);
  const expand = (flag: string) =>
    flag.replace(/\$\{KERNELS\}/g, repoFiles.kernelsDir).replace(/\$\{BUILD\}/g, dir).replace(/\$\{MAP\}/g, path.join(dir, 'image.map')).replace(/\$\{IMAGE\}/g, image);
  const all = [...p.sources.map(s => path.join(repoFiles.kernelsDir, s)), ...sources.map(s => path.join(dir, s))];
  const objects = all.map((_, i) => path.join(dir, `unit${i}.o`));
  await Promise.all(all.map((source, i) => execa(p.cc, [...p.cflags.map(expand), '-DES_OUTPUT_BYTES=4096', '-c', source, '-o', objects[i]], { cwd: dir })));
  await execa(p.cc, [...p.ldflags.map(expand), ...objects, ...p.libs], { cwd: dir });
}

/** Compiles and links the toy model for `target` into `dir`; qemu-virt images get the fault symbol table. */
export async function buildToyImage(target: Target, dir: string, modelSource: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'model.c'), modelSource);
  const image = path.join(dir, target === 'host' ? 'model' : 'image.elf');
  await compileAndLink(target, dir, ['model.c'], image);
  if (target === 'qemu-virt') {
    const symbols = functionSymbols(parseElf(await fs.readFile(image)));
    await fs.writeFile(path.join(dir, 'symbols.c'), emitSymbolTable(symbols));
    await compileAndLink(target, dir, ['model.c', 'symbols.c'], image);
  }
  return image;
}

/** build.json for a toy image of `count` float32 values in and out, built from `bundle`. */
export async function writeToyManifest(dir: string, target: Target, image: string, count: number, bundle: string): Promise<void> {
  const tensor = (name: string, reference: string): BuildTensor => ({ name, tensor: name, shape: [1, count], dtype: 'float32', layout: 'NC', bytes: count * 4, reference });
  const bytes = await fs.readFile(image);
  const manifest: BuildManifest = {
    format: 'edgespec.build',
    version: 1,
    model: 'toy',
    target,
    bundle: path.relative(dir, bundle),
    image: path.basename(image),
    image_bytes: bytes.length,
    image_sha256: createHash('sha256').update(bytes).digest('hex'),
    inputs: [tensor('x', 'input.0')],
    outputs: [tensor('output.0', 'output.0')],
    ...(target === 'qemu-virt'
      ? { qemu: { machine: 'virt', cpu: 'cortex-a72', memory: '1G', input_address: '0x70000000' } }
      : { host: { argv: ['INPUT_FILE', 'OUTPUT_FILE'] as ('INPUT_FILE' | 'OUTPUT_FILE')[] } }),
    arena: { bytes: 0, lower_bound: 0 },
    weights: { file: 'weights.bin', bytes: 0, tensors: 0 },
    kernels: [],
    files: { footprint: 'footprint.json', log: 'build.log', map: 'image.map', linked: path.basename(image), model_source: 'model.c' },
    producer: 'test/ts/run/toyGuest.ts'
  };
  await fs.writeFile(path.join(dir, 'build.json'), JSON.stringify(manifest, null, 1));
}

/** A PyTorch model of eight values doubled, the bundle the toy images stand in for (captured with captureFromSource). */
export const DOUBLE_MODEL = `
import torch

class Double(torch.nn.Module):
    def forward(self, x):
        return x * 2.0

def double():
    return Double()
`;
