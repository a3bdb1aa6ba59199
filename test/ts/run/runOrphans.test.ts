// The guest never outlives `edgespec run`: SIGKILL of the CLI, a CLI that is stopped (its
// timer cannot fire), and a reader that goes away (`| head`) leave no QEMU or host program
// running and, by the next run at the latest, no edgespec-run-* directory. Real CLI, real
// QEMU, real signals.
import execa from 'execa';
import { mkdirSync, mkdtempSync, promises as fs, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { repoPath } from '../../../src/toolchain/paths';
import { GUARD_GRACE_S, GUARD_KILL_AFTER_S } from '../../../src/toolchain/run/guard';
import { buildToolchain } from '../foundation/cliProcess';
import { buildToyImage, toyModelSource, writeToyManifest } from './toyGuest';

const COUNT = 8;
const TOYS: Record<string, { target: 'qemu-virt' | 'host'; body: string }> = {
  ok: { target: 'qemu-virt', body: 'for (int i = 0; i < 8; i++) out[i] = 2.0f * in[i];' },
  hang: { target: 'qemu-virt', body: 'for (;;) __asm__ volatile("" ::: "memory");' },
  'host-hang': { target: 'host', body: 'for (;;) __asm__ volatile("" ::: "memory");' }
};

let root: string;
let input: string;
const toy = (name: string) => path.join(root, name);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'edgespec-run-orphans-'));
  await Promise.all([
    buildToolchain(),
    ...Object.entries(TOYS).map(async ([name, { target, body }]) => {
      const image = await buildToyImage(target, toy(name), toyModelSource(COUNT, body));
      // no bundle: the runs take --input and compare with nothing
      await writeToyManifest(toy(name), target, image, COUNT, path.join(root, 'no-bundle'));
    })
  ]);
  input = path.join(root, 'input.bin');
  await fs.writeFile(input, Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A private TMPDIR for one CLI run: its edgespec-run-* directories, and every guest (their paths name it). */
function privateTmp(label: string): string {
  const dir = path.join(root, `tmp-${label}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

/** Live processes whose command line mentions `text` (zombies have none). */
function processesMentioning(text: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(text)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return { value, ms: Date.now() - start };
    if (Date.now() - start > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

function startCli(args: string[], tmp: string) {
  return execa(process.execPath, [repoPath('bin', 'edgespec'), ...args], { cwd: root, env: { TMPDIR: tmp }, reject: false });
}

/** The guest's processes: the guard and the program, all of which name the run's work directory. */
const guestOf = (tmp: string) => processesMentioning(`${tmp}/edgespec-run-`);

afterEach(() => {
  // never leave a guest behind, whatever a test did
  for (const p of processesMentioning(root)) {
    if (p.cmdline.includes('qemu') || p.cmdline.includes('edgespec-run-')) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

it.each([
  ['qemu-virt', 'hang', 'qemu-system-aarch64'],
  ['host', 'host-hang', 'edgespec-run-']
])('SIGKILL of the CLI during a %s run: the guest is gone within seconds, the next run sweeps the work directory', async (_target, name, program) => {
  const tmp = privateTmp(`kill-${name}`);
  const cli = startCli(['run', toy(name), '--input', input, '--timeout', '300'], tmp);
  await waitFor('the guest to start', () => (guestOf(tmp).some(p => p.cmdline.includes(program)) ? true : undefined), 60_000);
  cli.kill('SIGKILL');
  await cli;
  const gone = await waitFor('the guest to end', () => (guestOf(tmp).length === 0 ? true : undefined), 10_000);
  expect(gone.ms).toBeLessThan(GUARD_KILL_AFTER_S * 1000 + 1500);
  const left = readdirSync(tmp);
  expect(left).toEqual([expect.stringMatching(new RegExp(`^edgespec-run-${cli.pid}-`))]);

  const next = await startCli(['run', toy('ok'), '--input', input], tmp);
  expect(next.exitCode).toBe(0);
  expect(readdirSync(tmp)).toEqual([]);
});

it('a stopped CLI cannot keep a hung guest alive: the guard stops it a little after the timeout', async () => {
  const tmp = privateTmp('stopped');
  const timeoutS = 1;
  const cli = startCli(['run', toy('hang'), '--input', input, '--timeout', String(timeoutS)], tmp);
  const started = Date.now();
  await waitFor('QEMU to start', () => (guestOf(tmp).some(p => p.cmdline.includes('qemu-system-aarch64')) ? true : undefined), 60_000);
  cli.kill('SIGSTOP');
  try {
    await waitFor('the guard to stop QEMU', () => (guestOf(tmp).length === 0 ? true : undefined), (timeoutS + GUARD_GRACE_S + GUARD_KILL_AFTER_S + 10) * 1000);
    expect(Date.now() - started).toBeLessThan((timeoutS + GUARD_GRACE_S + GUARD_KILL_AFTER_S + 5) * 1000);
  } finally {
    cli.kill('SIGKILL');
    cli.kill('SIGCONT');
    await cli;
  }
});

it.each([
  ['ok', 'head -c 10', 60, '{"event":"'],
  // the reader leaves once QEMU boots; the CLI learns it at its next write, when the guest has timed out
  ['hang', "sed -n '/booting/{p;q}'", 3, 'booting the image in QEMU']
])('`edgespec run %s --json | %s`: the CLI stops quietly, cleans up, and leaves no guest', async (name, reader, timeoutS, firstLine) => {
  const tmp = privateTmp(`pipe-${name}`);
  const stderr = path.join(root, `pipe-${name}.stderr`);
  const cli = [process.execPath, repoPath('bin', 'edgespec'), 'run', toy(name), '--input', input, '--timeout', String(timeoutS), '--json'].map(a => JSON.stringify(a)).join(' ');
  const command = `${cli} 2> ${JSON.stringify(stderr)} | ${reader}; s=("\${PIPESTATUS[@]}"); echo; echo "status=\${s[0]}"`;
  const start = Date.now();
  const result = await execa('bash', ['-c', command], { env: { TMPDIR: tmp }, reject: false });
  expect(Date.now() - start).toBeLessThan(30_000);
  const lines = result.stdout.split('\n');
  expect(lines[0]).toContain(firstLine);
  expect(lines).toContain('status=141');
  expect(readFileSync(stderr, 'utf8')).toBe('');
  expect(readdirSync(tmp)).toEqual([]);
  expect(guestOf(tmp)).toEqual([]);
  expect(readdirSync(toy(name)).filter(f => f.includes('.tmp'))).toEqual([]);
});
