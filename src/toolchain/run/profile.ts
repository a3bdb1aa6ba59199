import { ProfileManifest, RunProfile } from '../../common/types';

const HOW: Record<ProfileManifest['unit'], string> = {
  instructions: 'per step: the guest\'s cntvct_el0 after the step minus before it, under -icount shift=0 (one instruction per ns of virtual time; resolution one counter tick, 16 instructions at QEMU virt\'s 62.5 MHz); each mark adds a few instructions of its own',
  ns: 'per step: CLOCK_MONOTONIC after the step minus before it, in the last of the runner\'s calls (wall time of this machine; under qemu-aarch64 that is emulated time, not instructions)'
};

/**
 * The per-step counts of a profiling build's run, from its console lines
 * `edgespec: profile: step=I count=C`, joined with build.json's step list; undefined when
 * the guest printed none (it failed before reporting), so that run.json never holds a
 * partial profile.
 */
export function readProfile(manifest: ProfileManifest, consoleText: string, target: string): RunProfile | undefined {
  const counts = new Map<number, number>();
  for (const m of consoleText.matchAll(/edgespec: profile: step=(\d+) count=(\d+)/g)) counts.set(Number(m[1]), Number(m[2]));
  if (counts.size !== manifest.steps.length) return undefined;
  const steps = manifest.steps.map(s => ({ ...s, count: counts.get(s.step) ?? NaN }));
  if (steps.some(s => Number.isNaN(s.count))) return undefined;
  return {
    unit: manifest.unit,
    how: `${HOW[manifest.unit]} (target ${target})`,
    total: steps.reduce((sum, s) => sum + s.count, 0),
    steps
  };
}
