import { readFileSync } from 'fs';
import { EdgespecError } from '../errors';
import { repoFiles } from '../paths';

/** One entry of src/common/ops.json. */
export interface OpSpec {
  op: string;
  category: string;
  semantics: string;
  inputs: string[];
  attrs: Record<string, string>;
  dtypes: string[];
  targets: string[];
  pytorch: string[];
  tensorflow?: string[];
  tflite?: string[];
  onnx?: string[];
  notes?: string;
}

/** The frameworks whose ops ops.json maps, in the order the docs show them. */
export const FRAMEWORKS = [
  { key: 'pytorch', title: 'PyTorch' },
  { key: 'tensorflow', title: 'TensorFlow' },
  { key: 'tflite', title: 'TFLite' },
  { key: 'onnx', title: 'ONNX' }
] as const;

export type FrameworkKey = (typeof FRAMEWORKS)[number]['key'];

/** src/common/ops.json: the edgespec op vocabulary. */
export interface OpVocabulary {
  format: 'edgespec.ops';
  version: number;
  conventions: string;
  ops: OpSpec[];
  removed: { semantics: string } & Partial<Record<FrameworkKey, string[]>>;
}

let cached: OpVocabulary | undefined;

export function loadOpVocabulary(file = repoFiles.opsVocabulary): OpVocabulary {
  if (cached && file === repoFiles.opsVocabulary) return cached;
  let vocabulary: OpVocabulary;
  try {
    vocabulary = JSON.parse(readFileSync(file, 'utf8')) as OpVocabulary;
  } catch (e) {
    throw new EdgespecError('ops-vocabulary-unreadable', `cannot read the op vocabulary ${file}: ${(e as Error).message}`, 'the edgespec installation is incomplete; reinstall it or restore src/common/ops.json');
  }
  if (vocabulary.format !== 'edgespec.ops' || !Array.isArray(vocabulary.ops)) {
    throw new EdgespecError('ops-vocabulary-unreadable', `${file} is not an edgespec op vocabulary (format edgespec.ops)`, 'restore src/common/ops.json from the repository');
  }
  if (file === repoFiles.opsVocabulary) cached = vocabulary;
  return vocabulary;
}

export function opNames(vocabulary = loadOpVocabulary()): Set<string> {
  return new Set(vocabulary.ops.map(o => o.op));
}

/**
 * The framework op named by an entry of a `pytorch` list: entries may carry a remark
 * ("aten.add.Tensor (alpha=1)") or name two ops ("aten.mm.default + aten.permute.default ...").
 */
export function frameworkOpOfEntry(entry: string): string {
  return entry.trim().split(/[\s(]/)[0];
}

/** The framework ops capture removes (identity at inference), of every framework. */
export function removedFrameworkOps(vocabulary = loadOpVocabulary()): Set<string> {
  return new Set(FRAMEWORKS.flatMap(f => vocabulary.removed[f.key] ?? []).map(frameworkOpOfEntry));
}
