/**
 * The REST contract between the lab extension and the edgespec Jupyter server extension
 * (kernel-bridge/edgespec/server/), and a thin client for it.
 *
 * Every endpoint lives under `<baseUrl>/edgespec/`, requires an authenticated request, and
 * speaks JSON. Errors are JSON `{message, hint}` (see `ApiErrorBody`) with a 4xx status for
 * bad requests (400 bad body or path, 403 path outside the root, 404 unknown job/build,
 * 409 job not cancellable) and 5xx for server faults.
 *
 * Paths (`bundle`, `build`, archive `path`) are relative to the server's root directory,
 * '/'-separated, with no leading '/'. The server also accepts an absolute path in a request
 * when it lies inside the root, and always answers with root-relative paths. Anything that
 * resolves outside the root (`../`, absolute paths elsewhere, escaping symlinks) is refused
 * with 403 and a JSON error.
 *
 * Endpoints:
 *   POST   /edgespec/jobs                 CreateJobRequest          → CreateJobResponse (201)
 *                                         a build takes `target` and `dtype` ('float32' | 'int8';
 *                                         left out, the CLI decides); int8 builds go to
 *                                         `<bundle>/build/<target>-int8`
 *   GET    /edgespec/jobs                                           → Job[] (newest first)
 *   GET    /edgespec/jobs/<id>                                      → Job
 *   DELETE /edgespec/jobs/<id>            cancels a queued/running job → Job (its state after
 *                                         cancelling); a finished job → 409
 *   GET    /edgespec/builds                                         → BuildSummary[] (newest first, with dtype)
 *   GET    /edgespec/footprint?build=<p>                            → footprint.json (Footprint)
 *   GET    /edgespec/run?build=<p>                                  → run.json (RunReport); 404 if never run
 *   POST   /edgespec/archive              ArchiveRequest            → ArchiveResponse
 *
 * The browser downloads the archive with `<baseUrl>/files/<path>?download=1`.
 *
 * Outputs: a footprint or run MIME bundle displayed from Python may carry output metadata
 * `{"application/vnd.edgespec.footprint+json": {"build": "<build dir>"}}` (same for run+json)
 * so the view can offer Run / Download for that build; without it the footprint view finds
 * its build through `BuildSummary.image_sha256`.
 *
 * No DOM or JupyterLab imports in the types; the client below uses @jupyterlab/services.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { Dtype, DTYPES, TargetName } from '../common/targets';
import type { DivergenceReport, Footprint, RunReport } from '../common/types';
import { describeHttpError } from './model/httpErrors';

/** The targets and dtypes the CLI and the server know (src/common/targets.json). */
export type Target = TargetName;
export { DEFAULT_TARGET, TARGETS } from '../common/targets';

/** The image's arithmetic (`edgespec build --dtype`); int8 is post-training static quantization. */
export type BuildDtype = Dtype;
export const BUILD_DTYPES: readonly BuildDtype[] = DTYPES;

export type JobKind = 'build' | 'run' | 'diff';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** The last `progress` event the CLI printed (`done` of `total` steps of `stage`). */
export interface JobProgress {
  stage: string;
  done: number;
  total: number;
  message?: string;
}

/** Error body of every non-2xx response, and `Job.error` of a failed job. */
export interface ApiErrorBody {
  message: string;
  /** What the user can do about it. */
  hint?: string;
  /** The CLI's error code when the error came from the CLI, e.g. `E_UNSUPPORTED_OP`. */
  code?: string;
}

export type CreateJobRequest =
  /**
   * Build the bundle directory (holding graph.json) for a target. Default target qemu-virt.
   * `dtype` left out: the CLI decides (float32, or int8 for a bundle with its own
   * quantization, e.g. from an int8 .tflite); any other value than float32/int8 → 400.
   * An int8 build goes to `<bundle>/build/<target>-int8`, beside the float32 one.
   */
  | { kind: 'build'; bundle: string; target?: Target; dtype?: BuildDtype }
  /** Run a build directory (holding build.json) in QEMU (or natively for `host`). */
  | { kind: 'run'; build: string; target?: Target }
  /**
   * `edgespec diff BUILD`: build the build's debug twin (`<build>-debug`) if needed, run it on
   * the reference input and compare every layer with the framework; writes divergence.json.
   * The job's target and dtype are the build's.
   */
  | { kind: 'diff'; build: string };

export interface CreateJobResponse {
  id: string;
}

export interface Job {
  id: string;
  kind: JobKind;
  status: JobStatus;
  /** null until the CLI reported its first progress event. */
  progress: JobProgress | null;
  /** Every `log` event message and stderr line, oldest first. */
  log: string[];
  /**
   * The CLI's `result` event data once done (the build's or run's result), else null.
   * The UI relies only on `build` below; this is shown as-is.
   */
  result: unknown;
  /** Set when status is `failed` (or `cancelled`, with a message saying so); else null. */
  error: ApiErrorBody | null;
  /** ISO 8601 UTC timestamps. */
  created: string;
  started: string | null;
  finished: string | null;
  target: Target;
  /**
   * The build's arithmetic: for a build job the requested dtype, or, when the request left
   * it to the CLI, null until the build reports what it built; for a run job its build's.
   * Absent or null for jobs of older servers.
   */
  dtype?: BuildDtype | null;
  /** Root-relative bundle directory (build jobs; for run jobs the build's bundle when known). */
  bundle: string | null;
  /**
   * Root-relative build directory: the input of a run or diff job; for a build job the output
   * directory, known from submission (`<bundle>/build/<target>`, `<target>-int8` for int8).
   */
  build: string | null;
}

/** A build directory under the server root that holds footprint.json and build.json. */
export interface BuildSummary {
  build: string;
  model: string;
  target: string;
  /** footprint.json's dtype ('float32' or 'int8'); absent from older servers. */
  dtype?: string;
  image_bytes: number;
  /**
   * footprint.json's image.sha256: lets a view find the build its footprint came from.
   * Optional for older servers; the view then matches model, target and image_bytes.
   */
  image_sha256?: string;
  /** ISO 8601 UTC time footprint.json was written. */
  modified: string;
  /** Whether a run.json exists next to it. */
  has_run: boolean;
}

export interface ArchiveRequest {
  build: string;
}

/** A .zip written next to the build (`<build>/<model>-<target>[-int8].zip`); `path` is relative to the server root. */
export interface ArchiveResponse {
  path: string;
  bytes: number;
  sha256: string;
}

export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running'];

export function isActive(job: Pick<Job, 'status'>): boolean {
  return ACTIVE_STATUSES.includes(job.status);
}

/** An API failure carrying the server's message and hint (status 0: the server was not reached). */
export class EdgespecApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly hint?: string,
    readonly code?: string
  ) {
    super(message);
    this.name = 'EdgespecApiError';
  }
}

/** Thin client over `ServerConnection.makeRequest`; one method per endpoint. */
export class EdgespecClient {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  createJob(request: CreateJobRequest): Promise<CreateJobResponse> {
    return this.request('jobs', { method: 'POST', body: JSON.stringify(request) });
  }

  listJobs(): Promise<Job[]> {
    return this.request('jobs', { method: 'GET' });
  }

  getJob(id: string): Promise<Job> {
    return this.request(`jobs/${encodeURIComponent(id)}`, { method: 'GET' });
  }

  cancelJob(id: string): Promise<Job> {
    return this.request(`jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  listBuilds(): Promise<BuildSummary[]> {
    return this.request('builds', { method: 'GET' });
  }

  footprint(build: string): Promise<Footprint> {
    return this.request(`footprint?build=${encodeURIComponent(build)}`, { method: 'GET' });
  }

  runReport(build: string): Promise<RunReport> {
    return this.request(`run?build=${encodeURIComponent(build)}`, { method: 'GET' });
  }

  divergence(build: string): Promise<DivergenceReport> {
    return this.request(`divergence?build=${encodeURIComponent(build)}`, { method: 'GET' });
  }

  archive(build: string): Promise<ArchiveResponse> {
    const body: ArchiveRequest = { build };
    return this.request('archive', { method: 'POST', body: JSON.stringify(body) });
  }

  /** URL that makes the browser download a file under the server root. */
  downloadUrl(path: string): string {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    return URLExt.join(this.settings.baseUrl, 'files', encoded) + '?download=1';
  }

  private async request<T>(endpoint: string, init: RequestInit): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'edgespec', endpoint);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new EdgespecApiError(
        `Cannot reach the Jupyter server: ${(error as Error).message}`,
        0,
        'Check that the server is still running, then try again.'
      );
    }
    const text = await response.text();
    let data: unknown = null;
    if (text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const { message, hint, code } = describeHttpError(response.status, data, text);
      throw new EdgespecApiError(message, response.status, hint, code);
    }
    return data as T;
  }
}
