import { mkdtemp, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import * as path from 'path';
import { Measured } from '../../common/types';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';
import { readBuildDir } from '../run/buildDir';
import { encodeNpy } from '../run/npy';
import { prepareInput } from '../run/prepareInput';
import { runBuild } from '../run/runBuild';
import { runStream } from '../run/streamRun';
import { BenchModel } from './benchTypes';

const measured = (value: number, how: string): Measured => ({ value, how });

function errorText(e: unknown): string {
  if (e instanceof EdgespecError) return `${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The streaming columns: `count` copies of the bundle's reference input through one boot of
 * the qemu-virt image in serve mode (each compared with the reference output), against the
 * same number of one-shot boots; both as QEMU's wall time (run.json wall_ms).
 */
export async function benchStream(row: BenchModel, qemuDir: string, count: number, reporter: Reporter): Promise<void> {
  const quiet: Reporter = { ...reporter, progress: () => undefined };
  const work = await mkdtemp(path.join(tmpdir(), 'edgespec-bench-stream-'));
  try {
    const build = await readBuildDir(qemuDir);
    if (build.inputs.length !== 1) throw new Error(`streams only one-input models here, ${row.model} has ${build.inputs.length}`);
    const input = await prepareInput(build, undefined, quiet);
    const spec = build.inputs[0];
    const stacked = path.join(work, 'inputs.npy');
    await writeFile(stacked, encodeNpy({ dtype: spec.dtype, shape: [count, ...spec.shape], data: Buffer.concat(Array.from({ length: count }, () => input.tensors[0])) }));
    reporter.log(`${row.model}: streaming ${count} inputs through one qemu-virt boot`);
    const { report } = await runStream({ buildDir: qemuDir, inputs: stacked, reporter: quiet });
    if (report.status !== 'ok' || report.stream?.agreeing !== count) throw new Error(`the stream ended ${report.status}: ${report.stream?.agreeing ?? 0} of ${count} inputs agree${report.error ? ` (${report.error})` : ''}`);
    reporter.log(`${row.model}: booting qemu-virt ${count} times`);
    let boots = 0;
    for (let i = 0; i < count; i++) {
      const one = await runBuild({ buildDir: qemuDir, reporter: quiet });
      if (one.report.status !== 'ok') throw new Error(`boot ${i + 1} of ${count} ended ${one.report.status}`);
      boots += one.report.wall_ms.value;
    }
    row.stream_ms = measured(report.wall_ms.value, `${count} copies of the reference input through one boot of the qemu-virt image in serve mode (edgespec run --inputs; frames on semihosting FIFOs), each agreeing with the reference: QEMU's wall time from start to exit`);
    row.boots_ms = measured(boots, `the same ${count} inputs as ${count} one-shot boots (edgespec run): the sum of their QEMU wall times`);
    row.stream_vs_boots = measured(report.wall_ms.value / boots, 'one boot / separate boots (below 1: streaming saves time)');
  } catch (e) {
    row.errors.push(`qemu-virt streaming: ${errorText(e)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
