/** run.json's per-step profile as the run view's Profile section shows it: per layer, per op type, the sum check. Pure, no DOM. */
import type { RunProfile, RunReport } from '../../common/types';

export interface ProfileBar {
  label: string;
  /** A second line: the op and kernel of a layer, the number of steps of an op type. */
  detail: string;
  count: number;
  /** count / sum of the steps, 0..1. */
  share: number;
}

function stepsSum(profile: RunProfile): number {
  return profile.steps.reduce((sum, step) => sum + step.count, 0);
}

function byCountDescending(a: ProfileBar, b: ProfileBar): number {
  return b.count - a.count || a.label.localeCompare(b.label);
}

/** One bar per step of the schedule (a layer), largest first. */
export function profileByLayer(profile: RunProfile): ProfileBar[] {
  const sum = stepsSum(profile);
  return profile.steps
    .map(step => ({
      label: `#${step.step} ${step.module || step.op}`,
      detail: `${step.op} · ${step.kernel}`,
      count: step.count,
      share: sum > 0 ? step.count / sum : 0
    }))
    .sort(byCountDescending);
}

/** One bar per op type, summed over its steps, largest first. */
export function profileByOp(profile: RunProfile): ProfileBar[] {
  const sum = stepsSum(profile);
  const groups = new Map<string, { count: number; steps: number }>();
  for (const step of profile.steps) {
    const group = groups.get(step.op) ?? { count: 0, steps: 0 };
    group.count += step.count;
    group.steps += 1;
    groups.set(step.op, group);
  }
  return [...groups.entries()]
    .map(([op, group]) => ({
      label: op,
      detail: `${group.steps} ${group.steps === 1 ? 'step' : 'steps'}`,
      count: group.count,
      share: sum > 0 ? group.count / sum : 0
    }))
    .sort(byCountDescending);
}

export interface ProfileSum {
  unit: RunProfile['unit'];
  /** The sum of the per-step counts. */
  steps: number;
  /** The whole invoke's count (guest_instructions), when the run measured one in the same unit. */
  whole: number | null;
  /** steps / whole, or null without a whole count. */
  ratio: number | null;
}

/** The per-step counts against the whole-invoke count: what the marks between steps did not count. */
export function profileSum(report: RunReport): ProfileSum | null {
  const profile = report.profile;
  if (!profile) {
    return null;
  }
  const steps = stepsSum(profile);
  const whole = profile.unit === 'instructions' && report.guest_instructions ? report.guest_instructions.value : null;
  return { unit: profile.unit, steps, whole, ratio: whole !== null && whole > 0 ? steps / whole : null };
}
