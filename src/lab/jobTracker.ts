/**
 * The browser's view of the server's job list: polls `GET /edgespec/jobs` (fast while a job
 * runs, slowly otherwise, paused in hidden tabs) and tells the panel and the views what
 * changed. The state lives on the server, so a page reload loses nothing.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { BuildDtype, CreateJobRequest, EdgespecApiError, EdgespecClient, Job, Target, DEFAULT_TARGET } from './api';
import { IDLE_POLL_MS, newlyFinished, pollInterval, sameJobs, sortJobs } from './model/jobs';

export class JobTracker {
  private _jobs: Job[] = [];
  private _error: EdgespecApiError | null = null;
  private _loaded = false;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _finished = new Signal<this, Job>(this);
  private readonly _poll: Poll;

  constructor(readonly client: EdgespecClient) {
    this._poll = new Poll({
      factory: () => this._refresh(),
      frequency: { interval: IDLE_POLL_MS, backoff: true, max: 60 * 1000 },
      standby: 'when-hidden',
      name: 'edgespec:jobs'
    });
  }

  /** Fires when the list (or the listing error) changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Fires once per job that went from queued/running to done, failed or cancelled. */
  get finished(): ISignal<this, Job> {
    return this._finished;
  }

  get jobs(): readonly Job[] {
    return this._jobs;
  }

  /** Why the last listing failed (e.g. the server extension is missing), else null. */
  get error(): EdgespecApiError | null {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** Poll now rather than at the next tick; resolves once the new list is in. */
  async refresh(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  /** `dtype` left out: the CLI decides (float32 unless the bundle carries its own int8 quantization). */
  async submitBuild(bundle: string, target: Target = DEFAULT_TARGET, dtype?: BuildDtype): Promise<string> {
    return this.submit(dtype ? { kind: 'build', bundle, target, dtype } : { kind: 'build', bundle, target });
  }

  async submitRun(build: string, target?: Target): Promise<string> {
    return this.submit(target ? { kind: 'run', build, target } : { kind: 'run', build });
  }

  /** Start `edgespec diff` on a build; resolves with the job's id. */
  async submitDiff(build: string): Promise<string> {
    return this.submit({ kind: 'diff', build });
  }

  async cancel(id: string): Promise<void> {
    await this.client.cancelJob(id);
    await this.refresh();
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async submit(request: CreateJobRequest): Promise<string> {
    const { id } = await this.client.createJob(request);
    await this.refresh();
    return id;
  }

  private async _refresh(): Promise<void> {
    let jobs: Job[];
    try {
      jobs = sortJobs(await this.client.listJobs());
    } catch (error) {
      const apiError =
        error instanceof EdgespecApiError ? error : new EdgespecApiError(String(error), 0);
      const changed = this._error?.message !== apiError.message;
      this._error = apiError;
      this._loaded = true;
      if (changed) {
        this._changed.emit();
      }
      throw error; // lets the poll back off
    }
    const before = this._jobs;
    const hadError = this._error !== null;
    this._error = null;
    this._jobs = jobs;
    const firstLoad = !this._loaded;
    this._loaded = true;
    this._poll.frequency = { ...this._poll.frequency, interval: pollInterval(jobs) };
    if (firstLoad || hadError || !sameJobs(before, jobs)) {
      this._changed.emit();
    }
    for (const job of newlyFinished(before, jobs)) {
      this._finished.emit(job);
    }
  }
}
