import execa from 'execa';
import { constants } from 'os';
import { pythonEnv } from '../tools/locate';
import { findTool, missingToolError } from '../tools/tools';
import { EdgespecError } from '../errors';
import { childReportsInterrupts } from '../interrupt';
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
      childReportsInterrupts();
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
      // SIGINT and SIGTERM the capture handles itself (exit 130 / 143, its own message); any other
      // signal means a native library it runs crashed, or the system stopped it.
      if (child.signal && child.signal !== 'SIGINT' && child.signal !== 'SIGTERM') throw crashed(child.signal);
      process.exitCode = child.exitCode ?? 128 + signalNumber(child.signal!);
    });
};

function crashed(signal: string): EdgespecError {
  const why = signal === 'SIGKILL' ? 'the system stopped it (SIGKILL: most often out of memory)' : `a native library it runs (PyTorch, TensorFlow, onnxruntime) crashed on this model (${signal})`;
  return new EdgespecError('capture-crashed', `the capture process (python -m edgespec capture) died: ${why}; nothing was published`,
    signal === 'SIGKILL' ? 'free memory or capture a smaller input shape, then capture again' : "run the model with its framework alone (onnxruntime.InferenceSession, tf.lite.Interpreter, the PyTorch module) to see whether it crashes there too; the next capture removes this one's partial files", { signal });
}

function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
