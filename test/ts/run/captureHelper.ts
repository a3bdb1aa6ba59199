// Test helper: captures a PyTorch model from a Python source file into a bundle with the
// real capture (python -m edgespec capture FILE.py:FACTORY).
import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { locatePython, pythonEnv } from '../../../src/toolchain/tools/locate';

export async function captureFromSource(dir: string, source: string, factory: string, inputShape: string): Promise<string> {
  const python = locatePython().path;
  if (!python) throw new Error('no Python found for the capture (set EDGESPEC_PYTHON or create .venv)');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${factory}_model.py`);
  await fs.writeFile(file, source);
  const bundle = path.join(dir, `${factory}-bundle`);
  const run = await execa(python, ['-m', 'edgespec', 'capture', `${file}:${factory}`, '--input-shape', inputShape, '--out', bundle, '--json'], {
    env: pythonEnv(),
    extendEnv: false,
    reject: false
  });
  if (run.exitCode !== 0) throw new Error(`capture of ${factory} failed:\n${run.stdout}\n${run.stderr}`);
  return bundle;
}
