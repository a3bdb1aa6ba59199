import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { readBuildDir } from '../run/buildDir';
import { numberField, parseGuestConsole } from '../run/guestConsole';
import { encodeIoFile, IO_KIND_INPUTS } from '../guest/ioFile';
import { launch } from '../run/launch';

export interface HostLatency {
  median_ms: number;
  fastest_ms: number;
  repeats: number;
}

/**
 * The host executable's own timing: it runs es_model_invoke `repeats` times in one process
 * (`--repeat N`) and prints the median and fastest CLOCK_MONOTONIC duration of one call.
 */
export async function timeHost(buildDir: string, inputs: Buffer[], repeats: number, timeoutS: number): Promise<HostLatency> {
  const build = await readBuildDir(buildDir);
  if (build.target !== 'host') throw new Error(`internal: ${buildDir} is a ${build.target} build, not host`);
  const work = await fs.mkdtemp(path.join(tmpdir(), 'edgespec-bench-host-'));
  try {
    const input = path.join(work, 'input.bin');
    await fs.writeFile(input, encodeIoFile(IO_KIND_INPUTS, inputs));
    const args = (build.hostArgv ?? ['INPUT_FILE', 'OUTPUT_FILE']).map(a => path.join(work, a === 'INPUT_FILE' ? 'input.bin' : 'output.bin'));
    const run = await launch({ command: build.image, args: [...args, '--repeat', String(repeats)], cwd: work, timeoutMs: timeoutS * 1000 });
    const parsed = parseGuestConsole(run.console);
    const median = numberField(parsed, 'invoke_ns_median');
    const fastest = numberField(parsed, 'invoke_ns');
    if (run.exitCode !== 0 || median === undefined || fastest === undefined) {
      const why = run.timedOut ? `did not finish within ${timeoutS} s` : parsed.errors.join('; ') || `exited with ${run.exitCode ?? run.signal}`;
      throw new EdgespecError('bench-host-failed', `timing the host executable ${build.image} --repeat ${repeats} failed: ${why}`, `run it by hand: ${build.image} INPUT.bin OUTPUT.bin --repeat ${repeats}`);
    }
    return { median_ms: median / 1e6, fastest_ms: fastest / 1e6, repeats };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
