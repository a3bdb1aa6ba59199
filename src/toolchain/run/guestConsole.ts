// Reads the machine-readable lines every platform prints (kernels/include/edgespec/platform.h):
//   edgespec: key=value key=value ...
//   edgespec: error: MESSAGE
//   edgespec: fault: <what happened>            (qemu-virt; then)
//   edgespec: fault: ec=0x25 esr=0x96000006 far=0x0 elr=0x40001234 symbol=name+0x1c
//   edgespec: fault: signal SIGSEGV address=0x8    (host)
//   edgespec: fault: pc=0x401234 symbol=name+0x1c   (linux-vm, before the signal line)
//   edgespec: status=ok | status=failed exit=N
import { RunReport } from '../../common/types';

export type GuestFault = NonNullable<RunReport['fault']>;

export interface GuestConsole {
  /** Every key=value of the plain lines; a later line wins. */
  fields: Record<string, string>;
  errors: string[];
  /** The fault's description lines, in order (without the ec=... line). */
  faultText: string[];
  fault?: GuestFault;
}

const PREFIX = 'edgespec: ';

/** ESR exception classes whose FAR holds the faulting address (instruction/data aborts, PC alignment). */
const FAR_VALID_CLASSES = new Set([0x20, 0x21, 0x22, 0x24, 0x25]);

function keyValues(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of text.trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return fields;
}

export function parseGuestConsole(consoleText: string): GuestConsole {
  const parsed: GuestConsole = { fields: {}, errors: [], faultText: [] };
  let registers: Record<string, string> | undefined;
  for (const rawLine of consoleText.split(/\r?\n/)) {
    const at = rawLine.indexOf(PREFIX);
    if (at < 0) continue;
    const body = rawLine.slice(at + PREFIX.length).trim();
    if (body.startsWith('error: ')) parsed.errors.push(body.slice('error: '.length));
    else if (body.startsWith('fault: ')) {
      const text = body.slice('fault: '.length);
      if (/^ec=0x[0-9a-f]+\s/.test(text)) registers = keyValues(text);
      else parsed.faultText.push(text);
    } else Object.assign(parsed.fields, keyValues(body));
  }
  const signal = parsed.faultText.map(t => /^signal (\S+) address=(\S+)/.exec(t)).find(m => m);
  const where = parsed.faultText.map(t => /^pc=(\S+) symbol=(\S+)/.exec(t)).find(m => m);
  if (signal) {
    const symbol = where ? `${where[2]} (pc ${where[1]})` : 'unknown (the host platform does not symbolize)';
    parsed.fault = { exception_class: `signal ${signal[1]}`, address: signal[2], symbol, esr: 'none (host)' };
  } else if (registers || parsed.faultText.length > 0) {
    const r = registers ?? {};
    const ec = parseInt(r.ec ?? '', 16);
    const description = parsed.faultText.join('; ') || 'CPU exception';
    parsed.fault = {
      exception_class: r.ec ? `${description} (EC ${r.ec})` : description,
      address: (FAR_VALID_CLASSES.has(ec) ? r.far : r.elr) ?? 'unknown',
      // the symbol is where the PC was; say the PC too, since `address` may be the data address
      symbol: `${r.symbol ?? 'unknown'}${r.elr ? ` (pc ${r.elr})` : ''}`,
      esr: r.esr ?? 'unknown'
    };
  }
  return parsed;
}

/** A whole-number field of the console, or undefined when absent or malformed. */
export function numberField(console: GuestConsole, key: string): number | undefined {
  const value = console.fields[key];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
