/**
 * What a view may ask of the application: submit jobs, download, open other views. The
 * views get this interface, not the app, so they stay independent of the shell.
 */
import type { BuildDtype, EdgespecClient, Target } from './api';
import type { JobTracker } from './jobTracker';

export interface EdgespecActions {
  readonly client: EdgespecClient;
  readonly jobs: JobTracker;
  /**
   * Submit a build of a bundle directory (root-relative or absolute inside the root);
   * `dtype` 'int8' quantizes it, left out the CLI decides.
   */
  build(bundle: string, target?: Target, dtype?: BuildDtype): Promise<void>;
  /** Submit a run of a build directory. */
  run(build: string, target?: Target): Promise<void>;
  /** Pack the build's archive on the server and have the browser download it. */
  download(build: string): Promise<void>;
  openBuilds(): void;
  openFootprint(build: string): void;
  openRun(build: string): void;
  /** Tell the user, with the server's hint when there is one. */
  reportError(what: string, error: unknown): void;
}
