import { DType } from '../../common/types';
import { EdgespecError } from '../errors';

/** The part of onnxruntime-node's API the bench uses (typed here so the toolchain builds without it). */
interface OrtTensor {
  data: ArrayLike<number>;
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(path: string, options: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: ArrayBufferView, dims: readonly number[]) => OrtTensor;
  env: { versions?: { common?: string } };
}

export interface PeerInput {
  dtype: DType;
  shape: number[];
  data: Buffer;
}

/** An onnxruntime session kept open, so its timing rounds interleave with edgespec's. */
export interface OnnxruntimeSession {
  version: string;
  /** The first output of one run made when opening, to check the peer computes the same function. */
  output: Float32Array;
  /** `warmup` untimed runs, then the times of `runs` runs (process.hrtime around session.run). */
  time(runs: number, warmup: number): Promise<number[]>;
  close(): Promise<void>;
}

function loadOnnxruntime(): OrtModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('onnxruntime-node') as OrtModule;
  } catch (e) {
    throw new EdgespecError(
      'bench-peer-missing',
      `the onnxruntime peer needs the npm package onnxruntime-node, which did not load (${(e as Error).message.split('\n')[0]})`,
      'run npm install in the repository (onnxruntime-node is one of its devDependencies), or leave the onnxruntime column out with --no-onnxruntime'
    );
  }
}

function typedArray(input: PeerInput): ArrayBufferView {
  const copy = Buffer.from(input.data); // aligned, owned copy
  const buffer = copy.buffer.slice(copy.byteOffset, copy.byteOffset + copy.byteLength);
  switch (input.dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
  }
}

/**
 * onnxruntime on one intra-op and one inter-op thread, sequential execution, all graph
 * optimisations, opened on `modelFile` and run once.
 */
export async function openOnnxruntime(modelFile: string, inputs: PeerInput[]): Promise<OnnxruntimeSession> {
  const ort = loadOnnxruntime();
  const session = await ort.InferenceSession.create(modelFile, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all'
  });
  if (session.inputNames.length !== inputs.length) {
    await session.release?.();
    throw new EdgespecError('bench-onnx-inputs', `${modelFile} has ${session.inputNames.length} inputs but the bundle has ${inputs.length}`, 'delete the .onnx file from the bench cache so it is exported again');
  }
  const feeds: Record<string, OrtTensor> = {};
  session.inputNames.forEach((name, i) => {
    const dtype = inputs[i].dtype === 'bool' ? 'bool' : inputs[i].dtype;
    feeds[name] = new ort.Tensor(dtype, typedArray(inputs[i]), inputs[i].shape);
  });
  const first = await session.run(feeds);
  return {
    version: ort.env.versions?.common ?? 'unknown',
    output: Float32Array.from(first[session.outputNames[0]].data),
    async time(runs: number, warmup: number): Promise<number[]> {
      for (let i = 0; i < warmup; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return times;
    },
    close: async () => { await session.release?.(); }
  };
}
