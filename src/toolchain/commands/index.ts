import type { RegisterCommand } from './context';
import { registerBench } from './bench';
import { registerBuild } from './build';
import { registerCapture } from './capture';
import { registerDiff } from './diff';
import { registerDoctor } from './doctor';
import { registerInspect } from './inspect';
import { registerRun } from './run';

export type { CommandContext, RegisterCommand } from './context';

/** Each subcommand lives in its own module and registers itself here. */
export const commands: RegisterCommand[] = [registerCapture, registerInspect, registerBuild, registerDoctor, registerRun, registerDiff, registerBench];
