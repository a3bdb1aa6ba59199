import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { pythonEnv } from '../tools/locate';
import { requireTool } from '../tools/tools';
import { EdgespecError } from '../errors';
import { repoPath } from '../paths';
import { LinePeer, parseLinePeerLine } from './linePeer';

export const TORCH_PEER_SCRIPT = repoPath('src', 'toolchain', 'bench', 'python', 'torch_peer.py');

export interface TorchTiming {
  torch_version: string;
  threads: number;
  weights: string;
  max_abs_error_vs_reference: number;
  runs: number;
  warmup: number;
  median_ms: number;
  min_ms: number;
  onnx_export_s?: number;
}

/**
 * PyTorch eager on one thread (torch.set_num_threads(1)), the same weights and input as the
 * bundle: the median of `runs` timed calls after `warmup` untimed ones. Exports the model to
 * `onnxFile` with torch.onnx.export(dynamo=True) on the way, unless that file exists.
 */
export async function timeTorch(model: string, bundleDir: string, onnxFile: string, runs: number, warmup: number): Promise<TorchTiming> {
  const python = await requireTool('python');
  const resultFile = path.join(path.dirname(onnxFile), `torch-peer-${process.pid}.json`);
  const args = [TORCH_PEER_SCRIPT, '--model', model, '--bundle', bundleDir, '--runs', String(runs), '--warmup', String(warmup), '--onnx', onnxFile, '--result', resultFile];
  const run = await execa(python.path, args, { reject: false, env: { ...pythonEnv(), OMP_NUM_THREADS: '1' }, extendEnv: false, all: true });
  try {
    if (run.exitCode !== 0) {
      throw new EdgespecError(
        'bench-torch-failed',
        `the PyTorch peer failed for ${model}: ${run.all?.trim().split('\n').slice(-3).join(' | ') || `exit status ${run.exitCode}`}`,
        `run it by hand to see everything: ${python.path} ${args.join(' ')}`
      );
    }
    return JSON.parse(await fs.readFile(resultFile, 'utf8')) as TorchTiming;
  } finally {
    await fs.rm(resultFile, { force: true });
  }
}

/** What torch_peer.py --serve says once its model is loaded (and exported, when the .onnx was missing). */
export interface TorchReady {
  torch_version: string;
  threads: number;
  weights: string;
  max_abs_error_vs_reference: number;
  onnx_export_s?: number;
}

function torchReady(v: Record<string, unknown>): TorchReady | undefined {
  if (typeof v.torch_version !== 'string' || typeof v.max_abs_error_vs_reference !== 'number') return undefined;
  return {
    torch_version: v.torch_version,
    threads: Number(v.threads),
    weights: String(v.weights ?? 'unknown'),
    max_abs_error_vs_reference: v.max_abs_error_vs_reference,
    ...(typeof v.onnx_export_s === 'number' ? { onnx_export_s: v.onnx_export_s } : {})
  };
}

/**
 * PyTorch eager on one thread, kept running (torch_peer.py --serve): it loads the bundle's
 * weights, exports `onnxFile` unless it exists, then answers timing rounds (time.perf_counter_ns,
 * inference_mode). Close it with close().
 */
export async function startTorch(model: string, bundleDir: string, onnxFile: string, timeoutS: number): Promise<LinePeer<TorchReady>> {
  const python = await requireTool('python');
  const args = [TORCH_PEER_SCRIPT, '--model', model, '--bundle', bundleDir, '--onnx', onnxFile, '--serve'];
  return LinePeer.start({ command: python.path, args, env: { ...pythonEnv(), OMP_NUM_THREADS: '1' } }, timeoutS * 1000, `the PyTorch peer for ${model}`, line => parseLinePeerLine(line, torchReady));
}
