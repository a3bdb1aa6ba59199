/** Logic of the builds panel: titles, progress, what changed between two polls. Pure, no DOM. */
import { BUILD_DTYPES, BuildDtype, Job, JobStatus } from '../api';
import { basename } from './paths';

export const STATUS_LABELS: Record<JobStatus, string> = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled'
};

/** Poll fast while something runs, slowly otherwise (other tabs or the CLI may add jobs). */
export const ACTIVE_POLL_MS = 1000;
export const IDLE_POLL_MS = 10000;

export function isJobActive(job: Pick<Job, 'status'>): boolean {
  return job.status === 'queued' || job.status === 'running';
}

export function pollInterval(jobs: readonly Job[]): number {
  return jobs.some(isJobActive) ? ACTIVE_POLL_MS : IDLE_POLL_MS;
}

/** The model a job is about: the bundle directory's name ("…/edgespec-bundles/<model>"). */
export function jobModelName(job: Job): string {
  if (job.bundle) {
    return basename(job.bundle);
  }
  if (job.build) {
    const match = /([^/]+)\/build\/[^/]+\/?$/.exec(job.build);
    return match ? match[1] : basename(job.build);
  }
  return job.id;
}

const JOB_VERBS: Record<Job['kind'], { subtitle: (target: string) => string; title: string }> = {
  build: { subtitle: target => `build for ${target}`, title: 'Build' },
  run: { subtitle: target => `run on ${target}`, title: 'Run' },
  diff: { subtitle: target => `layer diff on ${target}`, title: 'Diff' }
};

function verbsOf(job: Job): { subtitle: (target: string) => string; title: string } {
  return JOB_VERBS[job.kind] ?? { subtitle: (target: string) => `${job.kind} on ${target}`, title: job.kind };
}

/** "build for qemu-virt · int8" / "run on qemu-virt · float32" / "layer diff on qemu-virt · float32": the second line of a job in the panel. */
export function jobSubtitle(job: Job): string {
  const what = verbsOf(job).subtitle(job.target);
  return job.dtype ? `${what} · ${job.dtype}` : what;
}

/** "Build mobilenet_v2 · qemu-virt", with " · int8" for an int8 build, run or diff. */
export function jobTitle(job: Job): string {
  const verb = verbsOf(job).title;
  return `${verb} ${jobModelName(job)} · ${job.target}${job.dtype === 'int8' ? ' · int8' : ''}`;
}

/**
 * The `dtype` argument of the build command: undefined when absent (the CLI decides), the
 * dtype when valid; anything else is an error naming the choices.
 */
export function parseBuildDtype(value: unknown): BuildDtype | undefined {
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value === 'string' && (BUILD_DTYPES as readonly string[]).includes(value)) {
    return value as BuildDtype;
  }
  throw new Error(`Unknown dtype ${JSON.stringify(value)}: use ${BUILD_DTYPES.join(' or ')}, or leave it out.`);
}

/** 0..1, or null when the job has not reported progress (or it is indeterminate). */
export function progressFraction(job: Job): number | null {
  if (job.status === 'done') {
    return 1;
  }
  const progress = job.progress;
  if (!progress || !(progress.total > 0)) {
    return null;
  }
  return Math.min(1, Math.max(0, progress.done / progress.total));
}

export function progressText(job: Job): string {
  const progress = job.progress;
  if (job.status === 'queued') {
    return 'waiting for a free slot';
  }
  if (!progress) {
    return job.status === 'running' ? 'starting' : '';
  }
  const steps = progress.total > 0 ? ` ${progress.done}/${progress.total}` : '';
  return `${progress.stage}${steps}${progress.message ? ` — ${progress.message}` : ''}`;
}

/** "12.3 s" / "2 min 05 s" from start to finish (or to now while running). */
export function elapsedText(job: Job, now: number): string {
  if (!job.started) {
    return '';
  }
  const end = job.finished ? Date.parse(job.finished) : now;
  const seconds = Math.max(0, (end - Date.parse(job.started)) / 1000);
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
}

/** Jobs that were active in `before` and are finished in `after` (done, failed or cancelled). */
export function newlyFinished(before: readonly Job[], after: readonly Job[]): Job[] {
  const wasActive = new Set(before.filter(isJobActive).map(job => job.id));
  return after.filter(job => wasActive.has(job.id) && !isJobActive(job));
}

/** Whether two job lists would render the same (saves re-rendering on every poll). */
export function sameJobs(a: readonly Job[], b: readonly Job[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  return a.every((job, index) => {
    const other = b[index];
    return (
      job.id === other.id &&
      job.status === other.status &&
      job.log.length === other.log.length &&
      // the server caps the log, so a full log changes at its end, not its length
      job.log[job.log.length - 1] === other.log[other.log.length - 1] &&
      job.finished === other.finished &&
      JSON.stringify(job.progress) === JSON.stringify(other.progress)
    );
  });
}

/** Newest first, by creation time, ties by id. */
export function sortJobs(jobs: readonly Job[]): Job[] {
  return [...jobs].sort((a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
}

/** The last `lines` lines of the log, with how many were left out. */
export function logTail(log: readonly string[], lines: number): { text: string; omitted: number } {
  const omitted = Math.max(0, log.length - lines);
  return { text: log.slice(omitted).join('\n'), omitted };
}
