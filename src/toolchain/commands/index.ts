import { Command } from 'commander';
import type { CommandContext } from '../cli';
import { registerCapture } from './capture';
import { registerDoctor } from './doctor';
import { registerInspect } from './inspect';

/** Each subcommand lives in its own module and registers itself here. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export const commands: RegisterCommand[] = [registerCapture, registerInspect, registerDoctor];
