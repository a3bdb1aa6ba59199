import type { Job } from '../../../src/lab/api';
import {
  ACTIVE_POLL_MS,
  elapsedText,
  IDLE_POLL_MS,
  jobSubtitle,
  jobTitle,
  logTail,
  newlyFinished,
  parseBuildDtype,
  pollInterval,
  progressFraction,
  progressText,
  sameJobs,
  sortJobs
} from '../../../src/lab/model/jobs';

function job(overrides: Partial<Job>): Job {
  return {
    id: 'j1',
    kind: 'build',
    status: 'running',
    progress: { stage: 'compile', done: 3, total: 12 },
    log: [],
    result: null,
    error: null,
    created: '2026-11-24T20:00:00Z',
    started: '2026-11-24T20:00:01Z',
    finished: null,
    target: 'qemu-virt',
    bundle: 'work/edgespec-bundles/mobilenet_v2',
    build: 'work/edgespec-bundles/mobilenet_v2/build/qemu-virt',
    ...overrides
  };
}

describe('builds panel logic', () => {
  it('titles jobs by model and target', () => {
    expect(jobTitle(job({}))).toBe('Build mobilenet_v2 · qemu-virt');
    expect(jobTitle(job({ kind: 'run', bundle: null }))).toBe('Run mobilenet_v2 · qemu-virt');
    expect(jobTitle(job({ kind: 'run', bundle: null, build: 'out/x' }))).toBe('Run x · qemu-virt');
    expect(jobSubtitle(job({}))).toBe('build for qemu-virt');
    expect(jobSubtitle(job({ kind: 'run', target: 'host' }))).toBe('run on host');
    expect(jobTitle(job({ kind: 'diff', bundle: null, dtype: 'int8', build: 'b/mobilenet_v2/build/qemu-virt-int8' }))).toBe('Diff mobilenet_v2 · qemu-virt · int8');
    expect(jobSubtitle(job({ kind: 'diff', dtype: 'float32' }))).toBe('layer diff on qemu-virt · float32');
  });

  it('shows an int8 build in the title and any known dtype in the subtitle', () => {
    const int8 = { dtype: 'int8' as const, build: 'work/edgespec-bundles/mobilenet_v2/build/qemu-virt-int8' };
    expect(jobTitle(job(int8))).toBe('Build mobilenet_v2 · qemu-virt · int8');
    expect(jobSubtitle(job(int8))).toBe('build for qemu-virt · int8');
    expect(jobTitle(job({ kind: 'run', bundle: null, ...int8 }))).toBe('Run mobilenet_v2 · qemu-virt · int8');
    expect(jobTitle(job({ dtype: 'float32' }))).toBe('Build mobilenet_v2 · qemu-virt');
    expect(jobSubtitle(job({ dtype: 'float32', kind: 'run', target: 'host' }))).toBe('run on host · float32');
    expect(jobSubtitle(job({ dtype: null }))).toBe('build for qemu-virt');
  });

  it('reads the build command\'s dtype argument', () => {
    expect(parseBuildDtype(undefined)).toBeUndefined();
    expect(parseBuildDtype('')).toBeUndefined();
    expect(parseBuildDtype('int8')).toBe('int8');
    expect(parseBuildDtype('float32')).toBe('float32');
    expect(() => parseBuildDtype('int16')).toThrow('Unknown dtype "int16": use float32 or int8, or leave it out.');
    expect(() => parseBuildDtype(8)).toThrow('Unknown dtype 8');
  });

  it('computes progress and its text', () => {
    expect(progressFraction(job({}))).toBe(0.25);
    expect(progressFraction(job({ progress: null }))).toBeNull();
    expect(progressFraction(job({ progress: { stage: 'link', done: 0, total: 0 } }))).toBeNull();
    expect(progressFraction(job({ status: 'done', progress: null }))).toBe(1);
    expect(progressText(job({}))).toBe('compile 3/12');
    expect(progressText(job({ progress: { stage: 'compile', done: 4, total: 12, message: 'gemm.c' } }))).toBe(
      'compile 4/12 — gemm.c'
    );
    expect(progressText(job({ status: 'queued', progress: null }))).toBe('waiting for a free slot');
  });

  it('polls fast only while something is active', () => {
    expect(pollInterval([job({})])).toBe(ACTIVE_POLL_MS);
    expect(pollInterval([job({ status: 'done' }), job({ id: 'j2', status: 'failed' })])).toBe(IDLE_POLL_MS);
    expect(pollInterval([])).toBe(IDLE_POLL_MS);
  });

  it('finds jobs that finished between two polls', () => {
    const before = [job({ id: 'a' }), job({ id: 'b', status: 'queued' }), job({ id: 'c', status: 'done' })];
    const after = [job({ id: 'a', status: 'done' }), job({ id: 'b', status: 'running' }), job({ id: 'c', status: 'done' })];
    expect(newlyFinished(before, after).map(entry => entry.id)).toEqual(['a']);
  });

  it('detects when a poll changed nothing visible', () => {
    const jobs = [job({ log: ['a'] })];
    expect(sameJobs(jobs, [job({ log: ['a'] })])).toBe(true);
    expect(sameJobs(jobs, [job({ log: ['a', 'b'] })])).toBe(false);
    expect(sameJobs(jobs, [job({ log: ['a'], progress: { stage: 'compile', done: 4, total: 12 } })])).toBe(false);
    expect(sameJobs(jobs, [])).toBe(false);
    // a capped log keeps its length while its last line moves on
    expect(sameJobs([job({ log: ['a', 'b'] })], [job({ log: ['b', 'c'] })])).toBe(false);
  });

  it('sorts newest first and measures elapsed time', () => {
    const sorted = sortJobs([job({ id: 'old', created: '2026-01-01T00:00:00Z' }), job({ id: 'new' })]);
    expect(sorted.map(entry => entry.id)).toEqual(['new', 'old']);
    expect(elapsedText(job({ finished: '2026-11-24T20:00:13.5Z' }), 0)).toBe('12.5 s');
    expect(elapsedText(job({}), Date.parse('2026-11-24T20:02:06Z'))).toBe('2 min 05 s');
    expect(elapsedText(job({ started: null }), 0)).toBe('');
  });

  it('keeps the tail of a long log', () => {
    expect(logTail(['1', '2', '3', '4'], 2)).toEqual({ text: '3\n4', omitted: 2 });
    expect(logTail(['1'], 5)).toEqual({ text: '1', omitted: 0 });
  });
});
