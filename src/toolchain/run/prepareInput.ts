import * as path from 'path';
import { Reporter } from '../events';
import { EdgespecError } from '../errors';
import { Bundle, loadBundle } from '../bundle/loadBundle';
import { formatShape } from '../bundle/safetensors';
import { RunnableBuild, TensorSpec } from './buildDir';
import { readInputFile } from './inputFile';
import { countNonFinite } from './nonFinite';
import { DType } from '../../common/types';

export interface PreparedInput {
  /** The raw bytes of each model input, in input order. */
  tensors: Buffer[];
  /** For run.json: where the input came from. */
  description: string;
  /** The reference outputs to compare with, when the input is the bundle's reference input. */
  referenceOutputs?: { spec: TensorSpec; data: Buffer; dtype: string }[];
  /** NaN and ±Inf in the bundle's reference outputs, when the bundle could be read: may the model produce any? */
  referenceOutputsNonFinite?: number;
  /** How the framework computed the reference, when not in the graph's own float32 (graph.json reference.arithmetic). */
  referenceArithmetic?: Bundle['graph']['reference']['arithmetic'];
}

function checkBundleMatchesBuild(bundle: Bundle, build: RunnableBuild): void {
  const sides: [string, TensorSpec[], { name: string; shape: number[]; dtype: string }[]][] = [
    ['input', build.inputs, bundle.graph.inputs],
    ['output', build.outputs, bundle.graph.outputs]
  ];
  for (const [side, built, captured] of sides) {
    const same = built.length === captured.length && built.every((b, i) => b.dtype === captured[i].dtype && formatShape(b.shape) === formatShape(captured[i].shape));
    if (!same) {
      const show = (list: { shape: number[]; dtype: string }[]) => list.map(t => `${t.dtype} ${formatShape(t.shape)}`).join(', ');
      throw new EdgespecError(
        'build-bundle-changed',
        `the bundle ${bundle.dir} no longer matches this build: its ${side}s are ${show(captured)}, the image's are ${show(built)}`,
        `the bundle was captured again after the build; build again: edgespec build ${bundle.dir} --target ${build.target}`
      );
    }
  }
}

/** The reference tensors the build names (BuildTensor.reference), checked against the build's sizes. */
function referenceTensors(bundle: Bundle, build: RunnableBuild) {
  const find = (spec: TensorSpec) => {
    const t = bundle.reference.tensors.get(spec.reference);
    if (!t || t.data.length !== spec.bytes) {
      throw new EdgespecError(
        'build-bundle-changed',
        `the bundle ${bundle.dir} no longer matches this build: reference tensor '${spec.reference}' is ${t ? `${t.data.length} bytes, the image's ${spec.name} is ${spec.bytes}` : 'missing'}`,
        `build again: edgespec build ${bundle.dir} --target ${build.target}`
      );
    }
    return t;
  };
  return {
    inputs: build.inputs.map(spec => find(spec).data),
    outputs: build.outputs.map(spec => {
      const t = find(spec);
      return { spec, data: t.data, dtype: t.dtype };
    })
  };
}

/**
 * The bundle's reference input by default; otherwise the user's file. Outputs are compared
 * with the reference only when the input is byte-for-byte the reference input.
 */
export async function prepareInput(build: RunnableBuild, inputFile: string | undefined, reporter: Reporter): Promise<PreparedInput> {
  let bundle: Bundle | undefined;
  try {
    bundle = await loadBundle(build.bundleDir);
    checkBundleMatchesBuild(bundle, build);
  } catch (e) {
    if (!inputFile || !(e instanceof EdgespecError)) throw e;
    reporter.log(`not comparing with a reference: ${e.message}`, 'warn');
    bundle = undefined;
  }
  const reference = bundle && referenceTensors(bundle, build);
  const referenceOutputsNonFinite = reference?.outputs.reduce((sum, o) => sum + countNonFinite(o.data, o.dtype as DType), 0);
  if (!inputFile) {
    if (!reference) throw new Error('unreachable: the bundle loaded or threw');
    return {
      tensors: reference.inputs,
      description: `the bundle's reference input (${build.inputs.map(i => i.reference).join(', ')} in ${path.join(bundle!.dir, 'reference.safetensors')})`,
      referenceOutputs: reference.outputs,
      referenceOutputsNonFinite,
      ...arithmeticOf(bundle!)
    };
  }
  const tensors = await readInputFile(inputFile, build.inputs);
  const isReference = reference !== undefined && reference.inputs.every((r, i) => r.equals(tensors[i]));
  return {
    tensors,
    description: isReference ? `${inputFile} (the same bytes as the bundle's reference input)` : inputFile,
    referenceOutputs: isReference ? reference!.outputs : undefined,
    referenceOutputsNonFinite,
    ...(bundle ? arithmeticOf(bundle) : {})
  };
}

function arithmeticOf(bundle: Bundle): Pick<PreparedInput, 'referenceArithmetic'> {
  const arithmetic = bundle.graph.reference.arithmetic;
  return arithmetic ? { referenceArithmetic: arithmetic } : {};
}
