import * as path from 'path';
import { defaultBuildDir } from '../../common/targets';
import { buildBundle } from '../build/buildBundle';
import { loadTarget } from '../build/targets';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { runBuild } from '../run/runBuild';
import { BenchDtype, BenchModel } from './benchTypes';

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/** What "portable" means, with the optimization flags read from the qemu-virt platform itself. */
export function portableHow(): string {
  const flags = loadTarget('qemu-virt').cflags.filter(f => /^-O|^-mcpu=|^-march=|^-ffp-contract=|^-f(no-)?tree-vectorize/.test(f));
  return (
    'the same qemu-virt image built with edgespec build --kernel-variant portable: every source compiled with -DES_NO_NEON, so no hand-written NEON (arm_neon.h) path is taken. ' +
    `It is not scalar code: the kernels' portable paths remain, GNU C vector extensions (es_v8) that gcc lowers onto 128-bit Advanced SIMD, and plain loops that gcc may auto-vectorize at ${flags.join(' ')} (the platform's flags, unchanged). ` +
    'Counted like guest instructions (cntvct_el0 around es_model_invoke under -icount shift=0)'
  );
}

/**
 * The before-NEON figure: the row's qemu-virt image rebuilt with --kernel-variant portable,
 * run (and checked against the reference like the NEON image), its guest instructions per
 * inference beside the NEON image's.
 */
export async function benchPortable(row: BenchModel, dtype: BenchDtype, bundleDir: string, cacheDir: string, reporter: Reporter): Promise<void> {
  const outDir = `${defaultBuildDir(path.join(cacheDir, row.model), 'qemu-virt', dtype)}-portable`;
  try {
    reporter.log(`${row.model}: building qemu-virt --kernel-variant portable${dtype === 'int8' ? ' --dtype int8' : ''}`);
    await buildBundle({ bundleDir, target: 'qemu-virt', outDir, dtype, kernelVariant: 'portable' });
    reporter.log(`${row.model}: running qemu-virt (portable kernels)`);
    const { report } = await runBuild({ buildDir: outDir, reporter: { ...reporter, progress: () => undefined } });
    const a = report.agreement;
    row.runs.push({ target: 'qemu-virt portable', status: report.status, ...(a ? { max_abs_error: a.max_abs_error, tolerance: a.tolerance, top1_match: a.top1_match, top5_match: a.top5_match } : {}) });
    if (report.status !== 'ok') throw new Error(`the run ended ${report.status}${report.error ? `: ${report.error}` : ''}`);
    if (!report.guest_instructions) throw new Error('the run reported no guest instruction count');
    row.guest_instructions_portable = { value: report.guest_instructions.value, how: portableHow() };
  } catch (e) {
    row.errors.push(`qemu-virt with portable kernels: ${errorText(e)}`);
    return;
  }
  if (row.guest_instructions) {
    row.neon_vs_portable = {
      value: row.guest_instructions.value / row.guest_instructions_portable.value,
      how: 'guest instructions of the NEON image / guest instructions of the portable image, same model, dtype and input (below 1: the NEON paths save instructions)'
    };
  }
}
