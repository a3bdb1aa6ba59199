import { readFileSync } from 'fs';
import * as path from 'path';
import { TARGETS } from '../../../src/toolchain/build/targets';
import { generatedFiles, generateOpsJson, registryProblems } from '../../../src/toolchain/ops/generate';
import { loadKernelRegistry } from '../../../src/toolchain/ops/kernelRegistry';
import { repoFiles } from '../../../src/toolchain/paths';

// The files `npm run gen:ops` writes from the op modules, kernels/kernels.json and the platforms.
describe('generated op files', () => {
  it.each(generatedFiles().map(g => [path.relative(repoFiles.kernelsDir + '/..', g.file), g] as const))('%s is what the generator writes', (_name, g) => {
    let inTree = '';
    try {
      inTree = readFileSync(g.file, 'utf8');
    } catch {
      // compared below, with the fix in the message
    }
    if (inTree !== g.content) {
      throw new Error(`${g.file} is out of date with the op modules and kernels/kernels.json: run \`npm run build:toolchain && npm run gen:ops\` and keep the result`);
    }
  });

  it('finds a stale column: the generator rewrites an ops.json whose conv2d lost int8 and linux', () => {
    const inTree = readFileSync(repoFiles.opsVocabulary, 'utf8');
    const stale = inTree.replace(/("op": "conv2d"[\s\S]*?)"dtypes": \[[^\]]*\], "targets": \[[^\]]*\]/, '$1"dtypes": ["float32"], "targets": ["qemu-virt", "host"]');
    expect(stale).not.toBe(inTree);
    expect(generateOpsJson(stale)).toBe(inTree);
  });

  it('says conv2d runs in int8 and every op on every target', () => {
    const ops = JSON.parse(readFileSync(repoFiles.opsVocabulary, 'utf8')).ops as { op: string; dtypes: string[]; targets: string[] }[];
    expect(ops.find(o => o.op === 'conv2d')!.dtypes).toEqual(['float32', 'int8']);
    expect(ops.find(o => o.op === 'log_softmax')!.dtypes).toEqual(['float32']);
    for (const op of ops) expect(op.targets).toEqual([...TARGETS]);
  });

  it('the op modules and kernels/kernels.json agree: every kernel has its C entry and every entry a caller', () => {
    expect(registryProblems()).toEqual([]);
  });

  it('kernels/kernels.json is the only kernel table: no platform build.json has its own', () => {
    for (const target of TARGETS) {
      const spec = JSON.parse(readFileSync(path.join(repoFiles.kernelsDir, 'platform', target, 'build.json'), 'utf8'));
      expect(spec.kernels).toBeUndefined();
    }
    expect(loadKernelRegistry().get('es_conv2d_s8')).toEqual({ source: path.join(repoFiles.kernelsDir, 'int8', 'conv2d.c'), calls: [], dtype: 'int8' });
  });
});
