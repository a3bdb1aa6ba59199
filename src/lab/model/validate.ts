/**
 * Checks that the JSON a view receives is the report it expects, so a malformed output
 * shows one clear sentence instead of a broken view. Pure, no DOM.
 */
import type { DivergenceReport, Footprint, FootprintNode, RunReport } from '../../common/types';
import type { TraceReport } from './traceTable';

export class InvalidReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidReportError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectFormat(data: unknown, format: string, what: string): Record<string, unknown> {
  if (!isObject(data)) {
    throw new InvalidReportError(`The ${what} is not a JSON object (got ${describe(data)}).`);
  }
  if (data.format !== format) {
    throw new InvalidReportError(
      `The ${what} has format ${JSON.stringify(data.format)}, expected "${format}".`
    );
  }
  if (data.version !== 1) {
    throw new InvalidReportError(
      `The ${what} is version ${JSON.stringify(data.version)}; this extension reads version 1. ` +
        'Update the edgespec package so the extension and the toolchain match.'
    );
  }
  return data;
}

function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'an array' : typeof value;
}

function expectArray(record: Record<string, unknown>, key: string, what: string): unknown[] {
  const value = record[key];
  if (!Array.isArray(value)) {
    throw new InvalidReportError(`The ${what} has no "${key}" list (got ${describe(value)}).`);
  }
  return value;
}

function checkNode(node: unknown, path: string): void {
  if (!isObject(node) || typeof node.name !== 'string' || typeof node.bytes !== 'number') {
    throw new InvalidReportError(
      `footprint.json: tree node at ${path} needs a string "name" and a number "bytes".`
    );
  }
  if (node.bytes < 0 || !Number.isFinite(node.bytes)) {
    throw new InvalidReportError(`footprint.json: tree node ${path}/${node.name} has bytes ${node.bytes}.`);
  }
  if (node.children !== undefined) {
    if (!Array.isArray(node.children)) {
      throw new InvalidReportError(`footprint.json: "children" of ${path}/${node.name} is not a list.`);
    }
    node.children.forEach(child => checkNode(child, `${path}/${node.name}`));
  }
}

export function parseFootprint(data: unknown): Footprint {
  const record = expectFormat(data, 'edgespec.footprint', 'footprint report');
  checkNode(record.tree, '');
  const tree = record.tree as FootprintNode;
  if (!tree.children?.some(child => child.name === 'flash')) {
    throw new InvalidReportError('footprint.json: the tree root has no "flash" child.');
  }
  if (!isObject(record.totals) || !isObject(record.image)) {
    throw new InvalidReportError('footprint.json: "totals" and "image" are required.');
  }
  expectArray(record, 'kernels', 'footprint report');
  return record as unknown as Footprint;
}

export function parseRunReport(data: unknown): RunReport {
  const record = expectFormat(data, 'edgespec.run', 'run report');
  expectArray(record, 'outputs', 'run report');
  if (typeof record.status !== 'string') {
    throw new InvalidReportError('run.json: "status" is missing.');
  }
  if (!isObject(record.wall_ms)) {
    throw new InvalidReportError('run.json: "wall_ms" is missing.');
  }
  return record as unknown as RunReport;
}

export function parseDivergenceReport(data: unknown): DivergenceReport {
  const record = expectFormat(data, 'edgespec.divergence', 'divergence report');
  const layers = expectArray(record, 'layers', 'divergence report');
  layers.forEach((layer, index) => {
    if (!isObject(layer) || typeof layer.op !== 'string' || typeof layer.compared !== 'boolean' || !Array.isArray(layer.shape)) {
      throw new InvalidReportError(`divergence.json: layer #${index} needs an "op", a "shape" and "compared".`);
    }
  });
  if (record.status !== 'agrees' && record.status !== 'diverges') {
    throw new InvalidReportError(`divergence.json: "status" is ${JSON.stringify(record.status)}, expected "agrees" or "diverges".`);
  }
  if (record.first_divergent !== null && typeof record.first_divergent !== 'number') {
    throw new InvalidReportError('divergence.json: "first_divergent" must be a layer index or null.');
  }
  return record as unknown as DivergenceReport;
}

export function parseTraceReport(data: unknown): TraceReport {
  const record = expectFormat(data, 'edgespec.trace', 'trace summary');
  const models = expectArray(record, 'models', 'trace summary');
  models.forEach((model, index) => {
    if (!isObject(model) || typeof model.name !== 'string' || !Array.isArray(model.ops)) {
      throw new InvalidReportError(`trace summary: model #${index + 1} needs a "name" and an "ops" list.`);
    }
  });
  if (record.unsupported !== undefined && !Array.isArray(record.unsupported)) {
    throw new InvalidReportError('trace summary: "unsupported" is not a list.');
  }
  return record as unknown as TraceReport;
}
