import { BenchDtype } from './benchTypes';

export const DEFAULT_MODELS = ['mobilenet_v2', 'mobilenet_v3_small', 'resnet18', 'squeezenet1_1', 'shufflenet_v2_x0_5', 'efficientnet_b0'];

/** Without --dtypes: float32 for every model, int8 too for these (the goals of issue 6). */
export const DEFAULT_INT8_MODELS = ['mobilenet_v2', 'resnet18'];

/**
 * The models issue 6 asks about: the summary table shows them, and by default only they get
 * the extra qemu-virt run of the portable kernel variant (guest instructions before NEON).
 */
export const ISSUE_MODELS = DEFAULT_INT8_MODELS;

export interface BenchEntry {
  model: string;
  dtype: BenchDtype;
  /** Also build and run the qemu-virt image with --kernel-variant portable. */
  portable: boolean;
}

/**
 * The rows to measure, in table order (each model's float32 row before its int8 row).
 * `dtypes` given: every model in each of them; absent: float32 for all, int8 for DEFAULT_INT8_MODELS.
 * `portableModels`: the models whose rows also measure the portable kernel variant.
 */
export function benchPlan(models: readonly string[], dtypes?: readonly BenchDtype[], portableModels: readonly string[] = ISSUE_MODELS): BenchEntry[] {
  const entries: BenchEntry[] = [];
  for (const model of models) {
    const wanted = dtypes ?? (DEFAULT_INT8_MODELS.includes(model) ? ['float32', 'int8'] : ['float32']);
    for (const dtype of ['float32', 'int8'] as const) if (wanted.includes(dtype)) entries.push({ model, dtype, portable: portableModels.includes(model) });
  }
  return entries;
}

/** How the plan was chosen, for bench.json's settings and bench.md's header. */
export function describeDtypes(dtypes?: readonly BenchDtype[]): string {
  return dtypes ? dtypes.join(',') : `float32 for every model; int8 also for ${DEFAULT_INT8_MODELS.join(', ')}`;
}
