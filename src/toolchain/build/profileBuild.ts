import * as path from 'path';
import { ProfileManifest } from '../../common/types';
import { repoFiles } from '../paths';
import { Schedule } from './schedule';
import { TargetSpec } from './targets';

/** The platform half of a profiling build: the counter and the report lines (edgespec/profile.h). */
export const PROFILE_SOURCE = path.join(repoFiles.kernelsDir, 'platform', 'common', 'profile.c');

/** The target with the profile source added to its platform sources. */
export function withProfileSource(target: TargetSpec): TargetSpec {
  return { ...target, sources: [...target.sources, PROFILE_SOURCE] };
}

/**
 * build.json's profile: the steps in the order of the counts the guest prints, each with
 * its edgespec op, the kernel it calls ('alias' steps run no code) and the layer it computes.
 */
export function profileManifest(schedule: Schedule, target: TargetSpec): ProfileManifest {
  return {
    unit: target.name === 'qemu-virt' ? 'instructions' : 'ns',
    steps: schedule.steps.map((step, i) => ({ step: i, op: step.op, kernel: step.kernel, module: step.from.module || '(model)' }))
  };
}
