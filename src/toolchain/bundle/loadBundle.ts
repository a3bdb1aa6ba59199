import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Graph, GraphIO } from '../../common/types';
import { EdgespecError } from '../errors';
import { checkGraph, listLines } from './checkGraph';
import { graphSchemaErrors } from './graphSchema';
import { elementCount, formatShape, ITEM_BYTES, parseSafetensors, SafetensorsError, SafetensorsFile } from './safetensors';
import { readRegularFile } from '../readRegularFile';

/** A captured model, checked: graph.json valid and consistent, both tensor files intact and matching it. */
export interface Bundle {
  dir: string;
  graph: Graph;
  weights: SafetensorsFile;
  reference: SafetensorsFile;
}

/** graph.json of the largest models is a few MB; anything near this is not one edgespec wrote. */
export const GRAPH_JSON_MAX_BYTES = 64 * 1024 * 1024;
/** reference.safetensors holds the reference inputs and outputs; its JSON header gets this much room. */
const REFERENCE_HEADER_ALLOWANCE = 16 * 1024 * 1024;
const REGULAR_FILE_HINT = 'bundle files are regular files written by edgespec capture; capture the model again';

const EXAMPLE_CAPTURE = 'edgespec capture torchvision:mobilenet_v2 --input-shape 1x3x224x224 --seed 0 --out DIR';

export async function loadBundle(dir: string): Promise<Bundle> {
  await checkIsDirectory(dir);
  const graph = await readGraph(dir);
  const recapture = recaptureHint(graph, dir);
  checkGraph(graph);
  const weights = await readCheckedFile(dir, graph.weights.file, graph.weights.sha256, recapture, graph.weights.bytes);
  checkWeights(graph, weights, recapture);
  const reference = await readCheckedFile(dir, graph.reference.file, graph.reference.sha256, recapture, undefined, referenceMaxBytes(graph));
  checkReference(graph, reference, recapture);
  return { dir, graph, weights, reference };
}

async function checkIsDirectory(dir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw new EdgespecError('bundle-not-found', `bundle directory ${dir} does not exist`, `capture a model into it first, e.g. ${EXAMPLE_CAPTURE.replace('DIR', dir)}`);
  }
  if (!stat.isDirectory()) {
    throw new EdgespecError('bundle-not-directory', `${dir} is a file, not a bundle directory`, 'pass the directory written by edgespec capture (it holds graph.json, weights.safetensors and reference.safetensors)');
  }
}

async function readGraph(dir: string): Promise<Graph> {
  const file = path.join(dir, 'graph.json');
  let text: string;
  try {
    text = (await readRegularFile(file, { what: 'bundle file', maxBytes: GRAPH_JSON_MAX_BYTES, why: 'no model edgespec captures has a graph.json that large', hint: REGULAR_FILE_HINT })).toString('utf8');
  } catch (e) {
    if (e instanceof EdgespecError) throw e;
    if (errorCode(e) !== 'ENOENT') throw unreadable(file, e);
    throw new EdgespecError('bundle-missing-graph', `${dir} is not an edgespec bundle: it has no graph.json`, `pass the directory written by edgespec capture, or capture a model into it: ${EXAMPLE_CAPTURE.replace('DIR', dir)}`);
  }
  let graph: unknown;
  try {
    graph = JSON.parse(text);
  } catch (e) {
    throw new EdgespecError('bundle-graph-json', `${file} is not valid JSON: ${(e as Error).message}`, 'the file was damaged after capture; capture the model again');
  }
  const errors = graphSchemaErrors(graph);
  if (errors.length > 0) {
    throw new EdgespecError(
      'bundle-schema',
      `${file} does not match the graph schema (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${listLines(errors)}`,
      'the bundle was written by another edgespec version or edited by hand; capture the model again with this version',
      { errors }
    );
  }
  // tensor names come from the file: 'constructor' or 'toString' must not find Object.prototype's members
  Object.setPrototypeOf((graph as Graph).tensors, null);
  return graph as Graph;
}

/** The most bytes reference.safetensors can hold: the graph's inputs and outputs, and a header. */
function referenceMaxBytes(graph: Graph): number {
  const bytes = [...graph.inputs, ...graph.outputs].reduce((sum, io) => sum + elementCount(io.shape) * (ITEM_BYTES[io.dtype] ?? 8), 0);
  return 8 + REFERENCE_HEADER_ALLOWANCE + bytes;
}

/**
 * Reads a bundle file whole (a regular file, at most its declared size or `maxBytes`),
 * checking its size (where declared) and sha256 before parsing it.
 */
async function readCheckedFile(dir: string, name: string, sha256: string, recapture: string, declaredBytes?: number, maxBytes = Number.MAX_SAFE_INTEGER): Promise<SafetensorsFile> {
  const file = path.join(dir, name);
  let buffer: Buffer;
  try {
    buffer = await readRegularFile(file, {
      what: 'bundle file',
      maxBytes: declaredBytes ?? maxBytes,
      hint: recapture,
      tooLarge: bytes =>
        declaredBytes === undefined
          ? new EdgespecError('bundle-file-size', `${file} is ${bytes ?? `more than ${maxBytes}`} bytes, more than the ${maxBytes} that the graph's reference inputs and outputs with a header can take`, recapture)
          : new EdgespecError('bundle-file-size', `${file} is ${bytes ?? `more than ${declaredBytes}`} bytes but graph.json declares ${declaredBytes}: it has extra bytes`, recapture)
    });
  } catch (e) {
    if (e instanceof EdgespecError) throw e;
    if (errorCode(e) !== 'ENOENT') throw unreadable(file, e);
    throw new EdgespecError('bundle-missing-file', `${file} is missing (graph.json refers to it)`, recapture);
  }
  if (declaredBytes !== undefined && buffer.length !== declaredBytes) {
    const how = buffer.length < declaredBytes ? 'it is truncated' : 'it has extra bytes';
    throw new EdgespecError('bundle-file-size', `${file} is ${buffer.length} bytes but graph.json declares ${declaredBytes}: ${how}`, recapture);
  }
  const actual = createHash('sha256').update(buffer).digest('hex');
  if (actual !== sha256) {
    throw new EdgespecError('bundle-checksum', `${file} has sha256 ${actual} but graph.json declares ${sha256}: the file was changed or damaged after capture`, recapture);
  }
  try {
    return parseSafetensors(buffer, file);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new EdgespecError('bundle-file-invalid', e.message, recapture);
    throw e;
  }
}

function checkWeights(graph: Graph, weights: SafetensorsFile, recapture: string): void {
  const problems: string[] = [];
  const declared = Object.entries(graph.tensors).filter(([, t]) => t.kind === 'weight');
  for (const [name, tensor] of declared) {
    const stored = weights.tensors.get(name);
    if (!stored) problems.push(`tensor '${name}' (${tensor.dtype} ${formatShape(tensor.shape)}${tensor.module ? `, module '${tensor.module}'` : ''}) is missing from the file`);
    else if (stored.dtype !== tensor.dtype || formatShape(stored.shape) !== formatShape(tensor.shape)) {
      problems.push(`tensor '${name}' is ${stored.dtype} ${formatShape(stored.shape)} in the file but graph.json declares ${tensor.dtype} ${formatShape(tensor.shape)}`);
    }
  }
  const declaredNames = new Set(declared.map(([name]) => name));
  for (const name of weights.tensors.keys()) {
    if (!declaredNames.has(name)) problems.push(`tensor '${name}' is in the file but graph.json declares no weight of that name`);
  }
  if (problems.length === 0 && weights.tensors.size !== graph.weights.count) {
    problems.push(`the file holds ${weights.tensors.size} tensors but graph.json weights.count is ${graph.weights.count}`);
  }
  if (problems.length > 0) {
    throw new EdgespecError('bundle-weights-mismatch', `${weights.label} does not match graph.json:\n${listLines(problems)}`, recapture, { problems });
  }
}

function checkReference(graph: Graph, reference: SafetensorsFile, recapture: string): void {
  const problems: string[] = [];
  const pairs: [string, string[], GraphIO[]][] = [
    ['input', graph.reference.inputs, graph.inputs],
    ['output', graph.reference.outputs, graph.outputs]
  ];
  for (const [side, names, ios] of pairs) {
    if (names.length !== ios.length) problems.push(`graph.json reference.${side}s names ${names.length} tensors but the graph has ${ios.length} ${side}s`);
    names.forEach((name, i) => {
      const stored = reference.tensors.get(name);
      const io = ios[i];
      if (!stored) problems.push(`reference ${side} '${name}' is missing from the file`);
      else if (io && (stored.dtype !== io.dtype || formatShape(stored.shape) !== formatShape(io.shape))) {
        problems.push(`reference ${side} '${name}' is ${stored.dtype} ${formatShape(stored.shape)} but graph ${side} '${io.name}' is ${io.dtype} ${formatShape(io.shape)}`);
      }
    });
  }
  if (problems.length > 0) {
    throw new EdgespecError('bundle-reference-mismatch', `${reference.label} does not match graph.json:\n${listLines(problems)}`, recapture, { problems });
  }
}

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

function unreadable(file: string, e: unknown): EdgespecError {
  return new EdgespecError('bundle-unreadable', `cannot read ${file}: ${(e as Error).message}`, 'check that the file is a regular file you can read');
}

/** What to do when a bundle file is damaged: capture again, with the same entry when graph.json says it. */
function recaptureHint(graph: Graph, dir: string): string {
  const entry = graph.source.entry;
  if (entry && /^[\w.\/-]+:[\w.]+$/.test(entry)) {
    const shape = graph.inputs.length === 1 ? ` --input-shape ${graph.inputs[0].shape.join('x')}` : '';
    return `capture the model again: edgespec capture ${entry}${shape} --out ${dir}`;
  }
  return 'capture the model again (run its %%edgespec trace cell again, or edgespec capture MODEL --out DIR)';
}
