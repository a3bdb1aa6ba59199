import { Command, CommanderError } from 'commander';
import { EdgespecError, fromSystemError } from './errors';
import { createReporter, Reporter } from './events';
import { commands } from './commands';
import { CommandContext } from './commands/context';
import { stopCleanlyOnSignals } from './interrupt';

/** Entry point of `edgespec`. Exits 0 on success, 1 on an EdgespecError, 2 on a usage error. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('edgespec')
    .description('Build a purpose-built ARM64 image for a captured model, boot it in QEMU, and check its answer.')
    .exitOverride()
    .showHelpAfterError();
  let finished = false; // the command has given its result
  let lastReporter: Reporter = createReporter(argv.includes('--json'));
  const ctx: CommandContext = {
    reporter(opts) {
      lastReporter = noticingResults(createReporter(Boolean(opts.json)), () => (finished = true));
      return lastReporter;
    }
  };
  for (const register of commands) register(program, ctx);
  // A signal in the moments between the result and the exit stops the process all the same (the
  // exit status says so), but what the command published stays, and the message must not deny it.
  stopCleanlyOnSignals(signal =>
    finished
      ? lastReporter.log(`stopped by ${signal} after the command had finished; its result stands`, 'warn')
      : lastReporter.error('interrupted', `stopped by ${signal} before finishing; nothing was published`, 'run the command again'));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      // commander has printed the problem and the help on stderr; --json readers also get an event
      if (e.exitCode !== 0 && argv.includes('--json')) {
        const command = argv.find(a => !a.startsWith('-'));
        lastReporter.error('usage', e.message.replace(/^error: /, ''), `see edgespec ${command ? `${command} ` : ''}--help`);
      }
      return;
    }
    // A problem of the user's files or system (EACCES, ENOSPC, EROFS, ...) is said as one, not as a bug.
    const known = e instanceof EdgespecError ? e : fromSystemError(e);
    if (known) {
      lastReporter.error(known.code, known.message, known.hint, known.details);
      if (process.env.EDGESPEC_DEBUG && !(e instanceof EdgespecError) && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    lastReporter.error('internal', `unexpected failure: ${message}`, 'this is a bug in edgespec; run again with EDGESPEC_DEBUG=1 and report the output');
    if (process.env.EDGESPEC_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}

/** The reporter, calling `onResult` once the command's result has been reported. */
function noticingResults(reporter: Reporter, onResult: () => void): Reporter {
  return {
    json: reporter.json,
    progress: (stage, done, total, message) => reporter.progress(stage, done, total, message),
    log: (message, level) => reporter.log(message, level),
    result: (command, data, human) => {
      reporter.result(command, data, human);
      onResult();
    },
    error: (code, message, hint, details) => reporter.error(code, message, hint, details)
  };
}
