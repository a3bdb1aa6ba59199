import { checkAllTools, ToolStatus } from '../tools/tools';
import { EdgespecError } from '../errors';
import type { RegisterCommand } from './context';
import { formatTable } from './text';

export const registerDoctor: RegisterCommand = (program, ctx) => {
  program
    .command('doctor')
    .description('check the external tools edgespec needs (python with torch, cross compiler, picolibc, QEMU, node) and say how to install what is missing')
    .option('--json', 'print JSON-line events')
    .action(async (opts: { json?: boolean }) => {
      const reporter = ctx.reporter(opts);
      const tools = await checkAllTools();
      const missing = tools.filter(t => t.required && !t.found);
      reporter.result('doctor', { tools, all_found: missing.length === 0 }, () => formatTools(tools));
      if (missing.length > 0) {
        throw new EdgespecError(
          'missing-tools',
          `missing ${missing.length} required tool${missing.length === 1 ? '' : 's'}: ${missing.map(t => t.label).join(', ')}`,
          `install with:\n${missing.map(t => `    ${t.install}`).join('\n')}`,
          { missing: missing.map(t => t.id) }
        );
      }
    });
};

function formatTools(tools: ToolStatus[]): string {
  const found = tools.filter(t => t.found).length;
  const rows = tools.map(t =>
    t.found
      ? ['ok', t.label, t.version ?? '', t.path ?? '']
      : ['MISSING', t.label, t.detail ?? '', `install with: ${t.install}`]
  );
  return `edgespec doctor: ${found} of ${tools.length} found\n${formatTable(['status', 'tool', 'version or problem', 'path or install'], rows)}`;
}
