import { Activation } from './ir';
import { ArenaPlan } from './planArena';
import { KernelName, KernelStep, kernelFunction, Schedule, Shape4 } from './schedule';
import { WeightsBlob } from './weightsBlob';

/** A float as a C literal that converts back to exactly the same float32. */
export function floatLiteral(value: number): string {
  if (value === Infinity) return 'INFINITY';
  if (value === -Infinity) return '-INFINITY';
  if (Number.isNaN(value)) return 'NAN';
  let text = String(Math.fround(value));
  if (!/[.eE]/.test(text)) text += '.0';
  return `${text}f`;
}

export function commentSafe(text: string): string {
  return text.replace(/\*\//g, '* /').replace(/[\r\n]+/g, ' ');
}

function cString(text: string): string {
  return `"${text.replace(/[\\"]/g, c => `\\${c}`).replace(/[^\x20-\x7e]/g, '?')}"`;
}

const shape4 = (s: Shape4) => `(es_shape4){${s.n}, ${s.h}, ${s.w}, ${s.c}}`;
const ints = (values: number[]) => `(const int32_t[]){${values.join(', ')}}`;
const act = (a: Activation) => `${floatLiteral(a.min)}, ${floatLiteral(a.max)}`;

/** Turns tensor names into C pointer expressions: arena offsets, weight offsets, platform buffers. */
export class Pointers {
  constructor(private readonly plan: ArenaPlan, private readonly blob: WeightsBlob) {}

  read(name: string): string {
    const weight = this.blob.byName.get(name);
    if (weight) return `WEIGHT(${weight.offset})`;
    return this.location(name);
  }

  write(name: string): string {
    return this.location(name);
  }

  optional(name: string | null): string {
    return name === null ? 'NULL' : this.read(name);
  }

  private location(name: string): string {
    const b = this.plan.bufferOf.get(name);
    if (!b) throw new Error(`internal: tensor ${name} has no buffer`);
    if (b.home === 'input') return `inputs[${b.ioIndex}]`;
    if (b.home === 'output') return `outputs[${b.ioIndex}]`;
    return `ARENA(${b.offset})`;
  }
}

/** The C call of one step (no trailing semicolon), or undefined for a step without code. */
export function callOf(step: KernelStep, p: Pointers): string | undefined {
  const fn = step.kernel === 'alias' ? '' : kernelFunction(step.kernel);
  switch (step.kernel) {
    case 'conv2d': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.read(a.w)}, ${p.optional(a.b)},\n      ${p.write(a.y)}, ${shape4(a.os)}, ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.dilationH}, ${a.dilationW}, ${a.groups}, ${act(a.act)})`;
    }
    case 'conv2d_depthwise': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.read(a.w)}, ${p.optional(a.b)},\n      ${p.write(a.y)}, ${shape4(a.os)}, ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.dilationH}, ${a.dilationW}, ${act(a.act)})`;
    }
    case 'gemm': {
      const a = step.args;
      return `${fn}(${p.read(a.a)}, ${p.read(a.w)}, ${p.optional(a.b)}, ${p.write(a.y)}, ${a.m}, ${a.k}, ${a.n}, ${act(a.act)})`;
    }
    case 'matmul': {
      const a = step.args;
      return `${fn}(${p.read(a.a)}, ${p.read(a.b)}, ${p.write(a.y)}, ${a.batch}, ${a.m}, ${a.k}, ${a.n}, ${a.aBatchStride}, ${a.bBatchStride})`;
    }
    case 'add': case 'sub': case 'mul': case 'div': {
      const a = step.args;
      return `${fn}(${p.read(a.a)}, ${ints(a.aStrides)}, ${p.read(a.b)}, ${ints(a.bStrides)},\n      ${p.write(a.y)}, ${ints(a.outShape)}, ${act(a.act)})`;
    }
    case 'add_scalar': case 'mul_scalar': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${floatLiteral(a.s)}, ${p.write(a.y)}, ${a.count}, ${act(a.act)})`;
    }
    case 'clamp': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${floatLiteral(a.lo)}, ${floatLiteral(a.hi)})`;
    }
    case 'hardswish': case 'hardsigmoid': case 'sigmoid': case 'silu': case 'tanh': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count})`;
    }
    case 'gelu': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count}, ${a.tanh ? 1 : 0})`;
    }
    case 'scale_shift': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.read(a.scale)}, ${p.read(a.shift)}, ${p.write(a.y)}, ${a.rows}, ${a.channels}, ${act(a.act)})`;
    }
    case 'max_pool2d': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)},\n      ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.padBottom}, ${a.padRight}, ${a.dilationH}, ${a.dilationW}, ${act(a.act)})`;
    }
    case 'avg_pool2d': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)},\n      ${a.kh}, ${a.kw}, ${a.strideH}, ${a.strideW}, ${a.padTop}, ${a.padLeft}, ${a.padBottom}, ${a.padRight}, ${a.countIncludePad ? 1 : 0}, ${a.divisorOverride}, ${act(a.act)})`;
    }
    case 'adaptive_avg_pool2d': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${shape4(a.is)}, ${p.write(a.y)}, ${shape4(a.os)})`;
    }
    case 'mean': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.reduce}, ${a.inner})`;
    }
    case 'softmax': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.outer}, ${a.axis}, ${a.inner})`;
    }
    case 'concat': {
      const a = step.args;
      return `${fn}((const float *const[]){${a.xs.map(x => p.read(x)).join(', ')}},\n      ${ints(a.sizes)}, ${a.xs.length}, ${p.write(a.y)}, ${a.outer}, ${a.inner})`;
    }
    case 'split': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, (float *const[]){${a.ys.map(y => p.write(y)).join(', ')}},\n      ${ints(a.sizes)}, ${a.ys.length}, ${a.outer}, ${a.inner})`;
    }
    case 'transpose': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${ints(a.inShape)}, ${ints(a.perm)}, ${a.inShape.length}, ${p.write(a.y)})`;
    }
    case 'pad': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${ints(a.inShape)}, ${ints(a.pads)}, ${a.inShape.length}, ${floatLiteral(a.value)}, ${p.write(a.y)})`;
    }
    case 'copy': {
      const a = step.args;
      return `${fn}(${p.read(a.x)}, ${p.write(a.y)}, ${a.count})`;
    }
    case 'alias':
      return undefined;
  }
}

export function stepComment(step: KernelStep, index: number, total: number): string {
  const layer = step.from.module || '(model)';
  const ops = step.from.frameworkOps.join(', ');
  const what = step.kernel === 'alias' ? `${step.op}: a view of ${step.reads[0]}, no code` : step.op;
  return commentSafe(`[${index + 1}/${total}] ${layer}: ${what} <- ${ops}`);
}

/** The kernels a schedule calls, sorted (the files to compile and link). */
export function kernelsUsed(schedule: Schedule): KernelName[] {
  const names = new Set<KernelName>();
  for (const step of schedule.steps) if (step.kernel !== 'alias') names.add(step.kernel);
  return [...names].sort();
}

export interface ModelSource {
  /** model.c: es_model and es_model_invoke. */
  modelC: string;
  /** weights.S: the blob symbol es_weights over weights.bin. */
  weightsS: string;
}

/**
 * model.c calls the kernels in schedule order on arena offsets and weight offsets; it
 * includes nothing but the kernel API and the model contract, and holds no data but the
 * arena (bss) and the I/O sizes. The weights stay a binary blob linked from weights.S.
 */
export function emitModelSource(schedule: Schedule, plan: ArenaPlan, blob: WeightsBlob, producer: string, options: { profile?: boolean } = {}): ModelSource {
  const p = new Pointers(plan, blob);
  const total = schedule.steps.length;
  const ioComment = (kind: string, list: Schedule['inputs']) =>
    list.map((io, i) => ` *   ${kind} ${i}: ${commentSafe(io.name)} [${io.shape.join(', ')}] float32 ${io.layout === 'plain' ? '' : io.layout}`.trimEnd()).join('\n');
  const modelC = emitModelC({
    header: `/* model.c: the schedule of model ${commentSafe(schedule.model)}, generated by ${commentSafe(producer)}. Do not edit.
 * One kernel call per step, in order. Tensors live in es_arena (offsets from the memory
 * planner), in the weights blob (offsets into weights.bin), or in the platform's buffers:
${ioComment('input', schedule.inputs)}
${ioComment('output', schedule.outputs)}
 */`,
    kernelHeaders: ['edgespec/kernels.h'],
    pointer: 'float',
    arenaHolds: 'every intermediate tensor',
    model: schedule.model,
    inputs: schedule.inputs,
    outputs: schedule.outputs,
    plan,
    blob,
    steps: schedule.steps.map((step, i) => ({ comment: stepComment(step, i, total), call: callOf(step, p) })),
    profile: options.profile ?? false
  });

  const weightsS = emitWeightsAssembly(`the weights of model ${commentSafe(schedule.model)} as one blob, generated by ${commentSafe(producer)}.
 * weights.bin holds every tensor as little-endian float32, each at a 64-byte boundary.`);
  return { modelC, weightsS };
}

/** One step of model.c: its comment and its kernel call (none for an alias). */
export interface EmittedStep {
  comment: string;
  call: string | undefined;
}

/**
 * model.c from its header comment on: the includes, the weights blob, the arena, the I/O
 * sizes and es_model_invoke (with a counter mark around every step in a profiling build).
 * `pointer` is what ARENA and WEIGHT give: float, or void where tensors have mixed dtypes.
 */
export function emitModelC(o: {
  header: string; kernelHeaders: string[]; pointer: 'float' | 'void'; arenaHolds: string; model: string;
  inputs: { bytes: number }[]; outputs: { bytes: number }[]; plan: ArenaPlan; blob: WeightsBlob; steps: EmittedStep[]; profile: boolean;
}): string {
  const total = o.steps.length;
  const lines: string[] = [];
  if (o.profile) lines.push('  es_profile_marks[0] = es_profile_now();');
  o.steps.forEach((step, i) => {
    lines.push(`  /* ${step.comment} */`);
    if (step.call !== undefined) lines.push(`  ${step.call};`);
    if (o.profile) lines.push(`  es_profile_marks[${i + 1}] = es_profile_now();`);
  });
  const profile = o.profile
    ? `\n/* Profiling build: a counter mark before the first step and after each step (edgespec/profile.h). */\nstatic uint64_t es_profile_marks[${total + 1}];\nconst es_profile_info es_profile = {${total}u, es_profile_marks};\n`
    : '';
  const arena = o.plan.arenaBytes > 0
    ? `/* ${o.plan.arenaBytes} bytes for ${o.arenaHolds}, at the planner's offsets (lower bound ${o.plan.lowerBound}). */\nstatic unsigned char es_arena[${o.plan.arenaBytes}] __attribute__((aligned(64)));\n#define ARENA(offset) ((${o.pointer} *)(es_arena + (offset)))\n`
    : '/* Every tensor lives in an input or output buffer: no arena. */\n';
  const sizes = (list: { bytes: number }[]) => list.map(io => `${io.bytes}u`).join(', ');
  return `${o.header}
#include <math.h>
#include <stddef.h>
#include <stdint.h>

${o.kernelHeaders.map(h => `#include "${h}"`).join('\n')}
#include "edgespec/model.h"
${o.profile ? '#include "edgespec/profile.h"\n' : ''}
/* weights.S: weights.bin (${o.blob.data.length} bytes, ${o.blob.entries.length} tensors, each 64-byte aligned). */
extern const unsigned char es_weights[];
#define WEIGHT(offset) ((const ${o.pointer} *)(es_weights + (offset)))

${arena}
static const uint32_t input_bytes[${o.inputs.length}] = {${sizes(o.inputs)}};
static const uint32_t output_bytes[${o.outputs.length}] = {${sizes(o.outputs)}};

const es_model_info es_model = {${cString(o.model)}, ${o.inputs.length}, ${o.outputs.length}, input_bytes, output_bytes};
${profile}
int es_model_invoke(const float *const *inputs, float *const *outputs) {
${lines.join('\n')}
  (void)inputs;
  (void)outputs;
  return 0;
}
`;
}

/** weights.S: weights.bin linked as the symbol es_weights in section .edgespec.weights, 64-byte aligned. */
export function emitWeightsAssembly(description: string): string {
  return `/* weights.S: ${description} */
  .section .edgespec.weights, "a"
  .balign 64
  .global es_weights
  .type es_weights, %object
es_weights:
  .incbin "weights.bin"
  .size es_weights, . - es_weights

  /* no executable stack wanted (hosted linkers warn otherwise) */
  .section .note.GNU-stack, "", %progbits
`;
}
