import { Command } from 'commander';
import type { CommandContext } from '../cli';

/** Each subcommand lives in its own module and registers itself here. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export const commands: RegisterCommand[] = [];
