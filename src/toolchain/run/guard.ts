import * as path from 'path';
import { findOnPath } from '../tools/locate';

/**
 * A guest must not outlive `edgespec run`, nor run on forever when node cannot stop it (the
 * CLI killed with SIGKILL, stopped, or stuck). Two small system tools guard it:
 *
 * - `setpriv --pdeathsig TERM` (util-linux) asks the kernel to send SIGTERM to the guard when
 *   this process dies, however it dies;
 * - `timeout` (coreutils) passes that SIGTERM on to the guest, stops the guest by itself a
 *   little after the run's timeout, and sends SIGKILL GUARD_KILL_AFTER_S later to a guest
 *   that ignores SIGTERM. It exits with the guest's status, or 124 when it stopped the guest.
 *
 * Where a tool is missing (not Linux), the guest runs with what is there.
 */
export interface GuardedCommand {
  command: string;
  args: string[];
  /** The exit status that means "the guard's own timeout stopped the guest", when there is a guard. */
  guardTimeoutExit?: number;
}

/** The guard's timeout is this much after node's, so node (precise, with a clear report) normally stops the guest. */
export const GUARD_GRACE_S = 3;
export const GUARD_KILL_AFTER_S = 2;
const TIMEOUT_EXIT = 124;
const SYSTEM_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

function systemTool(name: string): string | undefined {
  return findOnPath(name, [process.env.PATH ?? '', ...SYSTEM_DIRS].join(path.delimiter));
}

export function guardedCommand(command: string, args: string[], timeoutS: number): GuardedCommand {
  const setpriv = process.platform === 'linux' ? systemTool('setpriv') : undefined;
  const timeout = systemTool('timeout');
  let guarded: GuardedCommand = { command, args };
  if (timeout) {
    const seconds = (timeoutS + GUARD_GRACE_S).toFixed(3);
    guarded = { command: timeout, args: [`--kill-after=${GUARD_KILL_AFTER_S}s`, `${seconds}s`, command, ...args], guardTimeoutExit: TIMEOUT_EXIT };
  }
  if (setpriv) guarded = { ...guarded, command: setpriv, args: ['--pdeathsig', 'TERM', '--', guarded.command, ...guarded.args] };
  return guarded;
}
