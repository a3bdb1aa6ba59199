import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { pythonEnv } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { repoPath } from '../paths';

export const ORT_QUANTIZE_SCRIPT = repoPath('src', 'toolchain', 'bench', 'python', 'ort_quantize.py');

export interface OrtQuantization {
  onnxruntime_version: string;
  quantize_s: number;
  bytes: number;
}

/**
 * The int8 onnxruntime peer's model: `fp32File` statically quantized by onnxruntime's own
 * Python tooling (QDQ, per-channel int8 weights, int8 activations, MinMax calibration on the
 * bundle's reference input) into `int8File`. Reuses `int8File` when it is newer than `fp32File`.
 */
export async function quantizeOnnx(fp32File: string, bundleDir: string, int8File: string): Promise<OrtQuantization | undefined> {
  const [fp32, int8] = await Promise.all([fs.stat(fp32File), fs.stat(int8File).catch(() => undefined)]);
  if (int8 && int8.mtimeMs >= fp32.mtimeMs) return undefined;
  const python = await requireTool('python');
  const resultFile = path.join(path.dirname(int8File), `ort-quantize-${process.pid}.json`);
  const args = [ORT_QUANTIZE_SCRIPT, '--onnx', fp32File, '--bundle', bundleDir, '--out', int8File, '--result', resultFile];
  const run = await execa(python.path, args, { reject: false, env: { ...pythonEnv(), OMP_NUM_THREADS: '1' }, extendEnv: false, all: true });
  try {
    if (run.exitCode !== 0) {
      throw new EdgespecError(
        'bench-ort-quantize-failed',
        `quantizing ${fp32File} with onnxruntime.quantization failed: ${run.all?.trim().split('\n').slice(-3).join(' | ') || `exit status ${run.exitCode}`}`,
        `run it by hand to see everything: ${python.path} ${args.join(' ')}`
      );
    }
    return JSON.parse(await fs.readFile(resultFile, 'utf8')) as OrtQuantization;
  } finally {
    await fs.rm(resultFile, { force: true });
  }
}
