/**
 * The trace summary (`application/vnd.edgespec.trace+json`, written by `%%edgespec trace`)
 * as the trace view shows it: per-model op tables, unsupported ops gathered in one list,
 * kernel bytes filled in once a build exists. Pure, no DOM.
 */
import type { Footprint } from '../../common/types';

export interface TraceTensorInfo {
  shape: number[];
  dtype: string;
  name?: string;
}

export interface TraceOp {
  framework_op: string;
  count: number;
  /** The vocabulary op it maps onto; null when nothing does. */
  edgespec_op: string | null;
  supported: boolean;
}

/** A capture error as the kernel reports it: what went wrong and what to do. */
export interface TraceError {
  message: string;
  hint?: string;
  code?: string;
}

export interface TraceModel {
  name: string;
  /** The bundle directory the capture wrote, as the kernel saw it (relative to its cwd or absolute); null when capture failed. */
  bundle: string | null;
  inputs: TraceTensorInfo[];
  outputs: TraceTensorInfo[];
  /** null when the capture failed. */
  parameter_bytes: number | null;
  nodes: number | null;
  ops: TraceOp[];
  framework?: string;
  model_class?: string;
  /** How many times the cell called the model. */
  calls?: number;
  /** Why this model has no bundle. */
  error?: TraceError;
}

/** Either a framework op name or a record saying where it was met. */
export type UnsupportedEntry =
  | string
  | {
      framework_op?: string;
      op?: string;
      model?: string;
      module?: string;
      source?: string;
      reason?: string | null;
      message?: string;
      count?: number;
    };

export interface TraceReport {
  format: 'edgespec.trace';
  version: 1;
  models: TraceModel[];
  unsupported?: UnsupportedEntry[];
  /** A failure of the whole trace, e.g. the cell called no model. */
  error?: TraceError;
}

export interface KernelUse {
  /** Kernel names serving the op (one op may need several, e.g. conv2d + gemm). */
  names: string[];
  bytes: number;
  /** Other ops that the same kernels also serve (their bytes are shared, not added). */
  sharedWith: string[];
}

export interface OpRow {
  frameworkOp: string;
  count: number;
  edgespecOp: string | null;
  supported: boolean;
  /** The capture dropped the op (e.g. detach, dropout): nothing to run, so never a kernel. */
  removed: boolean;
  /** Filled after a build; null before one, or for ops folded away (no kernel). */
  kernel: KernelUse | null;
}

/** How the capture marks an op it dropped instead of mapping it, e.g. "(removed)". */
export function isRemovedOp(edgespecOp: string | null): boolean {
  return edgespecOp !== null && edgespecOp.startsWith('(');
}

/** Edgespec op → the kernels that serve it in a build. */
export function kernelsByOp(kernels: Footprint['kernels']): Map<string, KernelUse> {
  const byOp = new Map<string, { names: Set<string>; bytes: number; ops: Set<string> }>();
  for (const kernel of kernels) {
    for (const op of kernel.ops) {
      const entry = byOp.get(op) ?? { names: new Set<string>(), bytes: 0, ops: new Set<string>() };
      if (!entry.names.has(kernel.name)) {
        entry.names.add(kernel.name);
        entry.bytes += kernel.bytes;
      }
      kernel.ops.filter(other => other !== op).forEach(other => entry.ops.add(other));
      byOp.set(op, entry);
    }
  }
  return new Map(
    [...byOp].map(([op, entry]) => [
      op,
      { names: [...entry.names].sort(), bytes: entry.bytes, sharedWith: [...entry.ops].sort() }
    ])
  );
}

/** Rows for one model: unsupported ops first, then by dispatch count. */
export function opRows(model: TraceModel, kernels?: Footprint['kernels']): OpRow[] {
  const byOp = kernels ? kernelsByOp(kernels) : null;
  return model.ops
    .map(op => ({
      frameworkOp: op.framework_op,
      count: op.count,
      edgespecOp: op.edgespec_op,
      supported: op.supported,
      removed: isRemovedOp(op.edgespec_op),
      kernel: byOp && op.edgespec_op ? byOp.get(op.edgespec_op) ?? null : null
    }))
    .sort(
      (a, b) =>
        Number(a.supported) - Number(b.supported) ||
        b.count - a.count ||
        a.frameworkOp.localeCompare(b.frameworkOp)
    );
}

export interface UnsupportedOp {
  op: string;
  /** Where it was met: "model · module · file:line" strings, deduplicated. */
  where: string[];
  count: number;
}

/** Every unsupported op of the report, each once, from the explicit list and the op tables. */
export function unsupportedOps(report: TraceReport): UnsupportedOp[] {
  const byOp = new Map<string, { where: Set<string>; count: number }>();
  const note = (op: string, where: string | null, count: number): void => {
    const entry = byOp.get(op) ?? { where: new Set<string>(), count: 0 };
    if (where) {
      entry.where.add(where);
    }
    entry.count = Math.max(entry.count, count);
    byOp.set(op, entry);
  };
  for (const entry of report.unsupported ?? []) {
    if (typeof entry === 'string') {
      note(entry, null, 0);
    } else {
      const op = entry.framework_op ?? entry.op ?? entry.message ?? 'unknown op';
      const where = [entry.model, entry.module, entry.source, entry.reason].filter(part => part).join(' · ');
      note(op, where || null, entry.count ?? 0);
    }
  }
  for (const model of report.models) {
    for (const op of model.ops) {
      if (!op.supported) {
        note(op.framework_op, report.models.length > 1 ? model.name : null, op.count);
      }
    }
  }
  return [...byOp]
    .map(([op, entry]) => ({ op, where: [...entry.where].sort(), count: entry.count }))
    .sort((a, b) => a.op.localeCompare(b.op));
}

export interface ModelTotals {
  frameworkOps: number;
  dispatched: number;
  edgespecOps: number;
  unsupported: number;
}

export function modelTotals(model: TraceModel): ModelTotals {
  return {
    frameworkOps: model.ops.length,
    dispatched: model.ops.reduce((sum, op) => sum + op.count, 0),
    edgespecOps: new Set(model.ops.map(op => op.edgespec_op).filter(op => op && !isRemovedOp(op))).size,
    unsupported: model.ops.filter(op => !op.supported).length
  };
}

/** A model can be built when none of its ops is unsupported and it has a bundle. */
export function buildBlocker(model: TraceModel): string | null {
  if (model.error && !model.bundle) {
    return `Cannot build ${model.name}: ${model.error.message}`;
  }
  const unsupported = model.ops.filter(op => !op.supported).map(op => op.framework_op);
  if (unsupported.length > 0) {
    return `Cannot build ${model.name}: unsupported ${unsupported.length === 1 ? 'op' : 'ops'} ${unsupported.join(', ')}.`;
  }
  if (!model.bundle) {
    return `No bundle was written for ${model.name}; run the trace again.`;
  }
  return null;
}
