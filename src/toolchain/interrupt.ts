import { ChildProcess } from 'child_process';
import { readdirSync, readFileSync, rmSync } from 'fs';

/**
 * What to undo when the CLI stops before it finishes (SIGINT, SIGTERM, SIGHUP, or its stdout
 * closed): first the child processes it started in their own process group (the compilers)
 * are stopped and waited for, so that none of them still writes while their directory is
 * removed; then the undoers run (staging directories, a publish half done, a run's work
 * directory).
 *
 * Everything here is synchronous on purpose: a signal handler that awaited would let the
 * interrupted command run on (report a compiler "failure", publish) while it cleans up.
 */
const undoers = new Set<() => void>();
const childGroups = new Set<number>();

/** How long children get to exit after SIGTERM (gcc then deletes its temporary files), and after SIGKILL. */
const TERM_GRACE_MS = 2000;
const KILL_GRACE_MS = 2000;
const POLL_MS = 10;

/** Runs `undo` if the CLI is interrupted; call the returned function once it is no longer needed. */
export function onInterrupt(undo: () => void): () => void {
  undoers.add(undo);
  return () => {
    undoers.delete(undo);
  };
}

/** Removes `dir` if the CLI is interrupted; call the returned function once `dir` is no longer at risk. */
export function removeOnInterrupt(dir: string): () => void {
  return onInterrupt(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
}

let exitHookInstalled = false;

/**
 * Stops `child` and every process it started before the undoers run. The child must have been
 * spawned with `detached: true`, so that its pid is its process group (gcc's cc1, as and ld
 * are in it too). It is forgotten when it exits.
 */
export function stopOnInterrupt(child: ChildProcess): void {
  const group = child.pid;
  if (group === undefined) return;
  childGroups.add(group);
  child.once('exit', () => childGroups.delete(group));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // However this process ends, no compiler it started runs on without it.
    process.once('exit', () => {
      for (const g of childGroups) signalGroup(g, 'SIGKILL');
    });
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // the group is gone already
  }
}

/** Whether a process of the group is still running (a zombie, waiting for this process to reap it, runs no more). */
function groupRunning(group: number): boolean {
  if (process.platform === 'linux') {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter(name => /^\d+$/.test(name));
    } catch {
      pids = [];
    }
    if (pids.length > 0) {
      return pids.some(pid => {
        try {
          // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return Number(fields[2]) === group && fields[0] !== 'Z' && fields[0] !== 'X';
        } catch {
          return false;
        }
      });
    }
  }
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitForGroups(groups: number[], ms: number): number[] {
  const deadline = Date.now() + ms;
  let running = groups.filter(groupRunning);
  while (running.length > 0 && Date.now() < deadline) {
    sleepSync(POLL_MS);
    running = running.filter(groupRunning);
  }
  return running;
}

/** Stops every child process group: SIGTERM, then SIGKILL to what is left; returns once none runs (or it gave up). */
function stopChildren(): void {
  const groups = [...childGroups];
  if (groups.length === 0) return;
  for (const g of groups) signalGroup(g, 'SIGTERM');
  const stubborn = waitForGroups(groups, TERM_GRACE_MS);
  for (const g of stubborn) signalGroup(g, 'SIGKILL');
  waitForGroups(stubborn, KILL_GRACE_MS);
}

/** Stops the children, then runs every registered undo now (the CLI is about to exit early). */
export function undoAll(): void {
  stopChildren();
  for (const undo of undoers) {
    try {
      undo();
    } catch {
      // best effort: the process is stopping
    }
  }
}

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * Installs the handlers once; `report` says what happened (on --json, as an error event).
 * The handlers stay installed while they clean up, so that a second Ctrl-C waits for the
 * first one's cleanup instead of killing the process half way through it.
 */
export function stopCleanlyOnSignals(report: (signal: keyof typeof EXIT_CODES) => void): void {
  let stopping = false;
  for (const signal of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      undoAll();
      if (!childReportsStops) report(signal);
      process.exit(EXIT_CODES[signal]);
    });
  }
}

let childReportsStops = false;

/**
 * The command's work runs in a child that says itself what a signal stopped (the Python capture:
 * nothing half-written, or, a moment later, the bundle it had already published), so this process
 * stops without a message of its own, which could only guess.
 */
export function childReportsInterrupts(): void {
  childReportsStops = true;
}
