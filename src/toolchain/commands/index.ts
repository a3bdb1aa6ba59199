import { Command } from 'commander';
import type { CommandContext } from '../cli';
import { registerBench } from './bench';
import { registerBuild } from './build';
import { registerCapture } from './capture';
import { registerDoctor } from './doctor';
import { registerInspect } from './inspect';
import { registerRun } from './run';

/** Each subcommand lives in its own module and registers itself here. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;

export const commands: RegisterCommand[] = [registerCapture, registerInspect, registerBuild, registerDoctor, registerRun, registerBench];
