import execa from 'execa';
import { constants } from 'os';
import { pythonEnv } from '../tools/locate';
import { findTool, missingToolError } from '../tools/tools';
import { EdgespecError } from '../errors';
import type { RegisterCommand } from './context';

/**
 * `edgespec capture ...` is the Python capture (kernel-bridge, `python -m edgespec capture`):
 * every argument goes through unchanged, its output streams through, and its exit code is ours.
 */
export const registerCapture: RegisterCommand = program => {
  program
    .command('capture')
    .description('capture a model into a bundle (runs python -m edgespec capture; see edgespec capture --help)')
    .argument('[args...]', 'arguments of python -m edgespec capture')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      const python = await findTool('python');
      if (!python.found || !python.path) throw missingToolError(python);
      const bridge = await findTool('edgespec-python');
      if (!bridge.found) throw missingToolError(bridge);
      const child = await execa(python.path, ['-m', 'edgespec', 'capture', ...args], {
        stdio: 'inherit',
        reject: false,
        env: pythonEnv(),
        extendEnv: false
      });
      if (child.exitCode === undefined && !child.signal) {
        const why = (child as { shortMessage?: string }).shortMessage ?? 'it did not start';
        throw new EdgespecError('capture-not-started', `cannot run ${python.path} -m edgespec capture: ${why}`, 'run edgespec doctor to check the Python installation');
      }
      process.exitCode = child.exitCode ?? 128 + signalNumber(child.signal!);
    });
};

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
