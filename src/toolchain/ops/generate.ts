// `npm run gen:ops`: writes the files generated from the op modules (ops/registry.ts), the
// kernel registry (kernels/kernels.json) and the platforms that exist (kernels/platform/*):
// the `dtypes` and `targets` columns of src/common/ops.json, and docs/ops.md.
// test/ts/foundation/generatedOps.test.ts fails when a file in the tree differs from what
// this writes.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'fs';
import * as path from 'path';
import { TARGETS } from '../build/targets';
import { repoFiles } from '../paths';
import { renderOpsTable } from './emitOpsTable';
import { KernelDtype, kernelRegistryFile, loadKernelRegistry } from './kernelRegistry';
import { kernelOf, MODULES, opRuleOf } from './registry';
import { OpVocabulary } from './vocabulary';

/**
 * Vocabulary ops that no op module implements: an int8 model's own conversions, which
 * build/quantize/givenQuantization.ts resolves before the IR (the int8 image converts with
 * these kernels where its schedule changes dtype).
 */
const CONVERSIONS: Record<string, string[]> = {
  quantize: ['es_quantize_s8'],
  dequantize: ['es_dequantize_s8']
};

const DTYPE_ORDER: KernelDtype[] = ['float32', 'int8', 'int32', 'int64'];

/** An integer kernel of index tensors (kernels/integer/): its name ends in its dtype. */
const integerDtype = (kernel: string): KernelDtype | undefined => (/_i32$/.test(kernel) ? 'int32' : /_i64$/.test(kernel) ? 'int64' : undefined);

/** The C function of an fp32 kernel of the schedule, and of its int8 counterpart. */
const f32Function = (kernel: string) => `es_${kernel}_f32`;
const s8Function = (kernel: string) => `es_${kernel}_s8`;

/** Problems between the op modules and kernels/kernels.json (each a sentence); empty when they agree. */
export function registryProblems(): string[] {
  const registry = loadKernelRegistry();
  const problems: string[] = [];
  const used = new Set<string>(Object.values(CONVERSIONS).flat());
  for (const module of MODULES) {
    for (const [kernel, k] of Object.entries(module.kernels)) {
      if (kernel === 'alias') continue; // a view: no code, in either dtype
      const integer = integerDtype(kernel);
      if (integer) {
        if (registry.get(`es_${kernel}`)?.dtype !== integer) problems.push(`kernel ${kernel} has no ${integer} entry es_${kernel} in kernels/kernels.json`);
        used.add(`es_${kernel}`);
        continue;
      }
      const fp = registry.get(f32Function(kernel));
      if (fp?.dtype !== 'float32') problems.push(`kernel ${kernel} has no float32 entry ${f32Function(kernel)} in kernels/kernels.json`);
      used.add(f32Function(kernel));
      if (k.int8) {
        for (const fn of k.int8Functions ?? [s8Function(kernel)]) {
          if (registry.get(fn)?.dtype !== 'int8') problems.push(`kernel ${kernel} has an int8 lowering but no int8 entry ${fn} in kernels/kernels.json`);
          used.add(fn);
        }
      }
    }
  }
  for (const [fn, entry] of registry) {
    if (!used.has(fn)) problems.push(`kernels/kernels.json lists ${fn}, which no op module calls`);
    if (!existsSync(entry.source)) problems.push(`kernels/kernels.json: the source of ${fn} (${path.relative(repoFiles.kernelsDir, entry.source)}) does not exist`);
    for (const callee of entry.calls) if (!registry.has(callee)) problems.push(`kernels/kernels.json: ${fn} calls ${callee}, which it does not list`);
  }
  return problems;
}

/** The dtypes an op runs in: float32 always; int8 where a kernel it may choose has an int8 lowering. */
function dtypesOf(op: string): KernelDtype[] | undefined {
  const registry = loadKernelRegistry();
  const conversion = CONVERSIONS[op];
  if (conversion) return DTYPE_ORDER.filter(d => d === 'float32' || conversion.some(fn => registry.get(fn)?.dtype === d));
  const rule = opRuleOf(op);
  if (!rule) return undefined;
  const int8 = rule.kernels.some(k => kernelOf(k).int8 !== undefined);
  const integers = DTYPE_ORDER.filter(d => rule.kernels.some(k => integerDtype(k) === d && !k.startsWith('cast_')));
  return [...(int8 ? ['float32', 'int8'] as KernelDtype[] : ['float32'] as KernelDtype[]), ...integers];
}

/** The targets whose platform exists (kernels/platform/<target>/build.json): each compiles every kernel. */
function platforms(): string[] {
  return TARGETS.filter(t => existsSync(path.join(repoFiles.kernelsDir, 'platform', t, 'build.json')));
}

/** ops.json with its dtypes and targets columns regenerated (the rest of the text as it is). */
export function generateOpsJson(text: string): string {
  const vocabulary = JSON.parse(text) as OpVocabulary;
  const targets = platforms();
  const chunks = text.split(/(?=\{"op": ")/);
  const out = chunks.map(chunk => {
    const op = /^\{"op": "([^"]+)"/.exec(chunk)?.[1];
    if (op === undefined) return chunk;
    const dtypes = dtypesOf(op);
    if (!dtypes) throw new Error(`ops.json names op ${op}, which no op module (src/toolchain/ops/registry.ts) implements`);
    const columns = /"dtypes": \[[^\]]*\], "targets": \[[^\]]*\]/;
    if (!columns.test(chunk)) throw new Error(`ops.json: op ${op} has no "dtypes": [...], "targets": [...] on one line`);
    return chunk.replace(columns, `"dtypes": ${JSON.stringify(dtypes).replace(/,/g, ', ')}, "targets": ${JSON.stringify(targets).replace(/,/g, ', ')}`);
  }).join('');
  if (JSON.parse(out).ops.length !== vocabulary.ops.length) throw new Error('internal: ops.json lost ops while regenerating');
  return out;
}

/** Every generated file: its path and the content the generator writes. */
export function generatedFiles(): { file: string; content: string }[] {
  const problems = registryProblems();
  if (problems.length > 0) throw new Error(`the op modules and ${kernelRegistryFile()} disagree:\n  ${problems.join('\n  ')}`);
  const opsJson = generateOpsJson(readFileSync(repoFiles.opsVocabulary, 'utf8'));
  return [
    { file: repoFiles.opsVocabulary, content: opsJson },
    { file: repoFiles.opsDoc, content: renderOpsTable(JSON.parse(opsJson) as OpVocabulary) }
  ];
}

function writeWhole(file: string, content: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

if (require.main === module) {
  for (const { file, content } of generatedFiles()) {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (before === content) continue;
    writeWhole(file, content);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
}
