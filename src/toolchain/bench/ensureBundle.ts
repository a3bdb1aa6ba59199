import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import * as path from 'path';
import { pythonEnv } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { Reporter } from '../events';

export const BENCH_INPUT_SHAPE = '1x3x224x224';
export const BENCH_SEED = 0;

/** The last error event of a JSON-lines output, if any. */
function lastError(stdout: string): { message: string; hint?: string } | undefined {
  let found: { message: string; hint?: string } | undefined;
  for (const line of stdout.split('\n')) {
    try {
      const event = JSON.parse(line);
      if (event?.event === 'error') found = event;
    } catch {
      // not an event line
    }
  }
  return found;
}

/**
 * The bundle of a torchvision model in the bench cache, captured with the Python CLI
 * (`python -m edgespec capture torchvision:NAME`, seeded weights and input) when missing.
 */
export async function ensureBundle(model: string, cacheDir: string, reporter: Reporter): Promise<string> {
  const dir = path.join(cacheDir, model, 'bundle');
  if (existsSync(path.join(dir, 'graph.json'))) return dir;
  const python = await requireTool('python');
  await requireTool('torch');
  await fs.mkdir(path.dirname(dir), { recursive: true });
  reporter.log(`capturing torchvision:${model} into ${dir}`);
  const args = ['-m', 'edgespec', 'capture', `torchvision:${model}`, '--input-shape', BENCH_INPUT_SHAPE, '--seed', String(BENCH_SEED), '--out', dir, '--json'];
  const run = await execa(python.path, args, { reject: false, env: pythonEnv(), extendEnv: false, all: false });
  if (run.exitCode !== 0 || !existsSync(path.join(dir, 'graph.json'))) {
    const error = lastError(run.stdout);
    throw new EdgespecError(
      'bench-capture-failed',
      `capturing torchvision:${model} failed: ${error?.message ?? (run.stderr.trim().split('\n').pop() || `exit status ${run.exitCode}`)}`,
      error?.hint ?? `run it by hand to see more: ${python.path} ${args.slice(0, -1).join(' ')}`
    );
  }
  return dir;
}
