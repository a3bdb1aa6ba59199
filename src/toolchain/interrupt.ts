import { rmSync } from 'fs';

/**
 * What to undo when the CLI is stopped by SIGINT or SIGTERM before it finishes: staging
 * directories, so that nothing half-written is left beside a build. Child processes (the
 * compiler, QEMU) are execa's: it kills them when this process exits.
 */
const undoers = new Set<() => void>();

/** Removes `dir` if the CLI is interrupted; call the returned function once `dir` is no longer at risk. */
export function removeOnInterrupt(dir: string): () => void {
  const undo = (): void => rmSync(dir, { recursive: true, force: true });
  undoers.add(undo);
  return () => {
    undoers.delete(undo);
  };
}

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Installs the handlers once; `report` says what happened (on --json, as an error event). */
export function stopCleanlyOnSignals(report: (signal: keyof typeof EXIT_CODES) => void): void {
  for (const signal of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
    process.once(signal, () => {
      for (const undo of undoers) {
        try {
          undo();
        } catch {
          // best effort: the process is stopping
        }
      }
      report(signal);
      process.exit(EXIT_CODES[signal]);
    });
  }
}
