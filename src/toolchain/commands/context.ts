import type { Command } from 'commander';
import { Reporter } from '../events';

/** What the CLI lends every command: its reporter (text or --json events). */
export interface CommandContext {
  reporter(opts: { json?: boolean }): Reporter;
}

/** Adds one command to the program. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
