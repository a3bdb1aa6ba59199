/**
 * Starts a built image in serve mode (kernels/include/edgespec/serve.h) and hands back the
 * byte streams its frames travel on:
 *   - host: the executable with --serve, frames on its stdin/stdout;
 *   - linux: the same under qemu-aarch64;
 *   - qemu-virt: QEMU with `-append serve=semihost` and two FIFOs in the run's directory
 *     (port 'semihost', the default: QEMU's PL011 moves one byte per main-loop turn), or
 *     `-append serve` with the PL011 UART on a unix socket chardev (port 'uart': what a
 *     board does). The console (semihosting) stays on QEMU's stdout;
 *   - rpi3: kernel8.img in QEMU's raspi3b with its UART on QEMU's stdin/stdout (the image
 *     always serves; it parks after STOP, so the caller stops QEMU).
 * The guest runs in a process group of its own under the guard of guard.ts.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { closeSync, createReadStream, createWriteStream, openSync } from 'fs';
import * as net from 'net';
import * as path from 'path';
import { PassThrough } from 'stream';
import { promisify } from 'util';
import { requireTool } from '../tools/tools';
import { onInterrupt } from '../interrupt';
import { linuxCpu, qemuVirtArgs, raspi3Args } from '../guest/guestArgs';
import { EdgespecError } from '../errors';
import { ConnectionStreams } from '../serve/connection';
import { efiServeArgs } from '../efi/efiRun';
import { RunnableBuild } from './buildDir';
import { runFiles } from './guestCommand';
import { guardedCommand } from './guard';
import { linuxVmServeArgs } from '../linuxVm/runVm';

export type QemuServePort = 'semihost' | 'uart';

export interface ServingGuest {
  streams: ConnectionStreams;
  /** What the process printed outside the frame stream (QEMU's semihosting console, stderr). */
  console(): string;
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
  /** Kills the guest's process group. */
  kill(): void;
  /** For run.json: what carries the frames. */
  port: string;
  /** The console lines come with the frames (host, linux, rpi3), not on a stream of their own. */
  consoleWithFrames: boolean;
  /** The guest does not end after STOP (a board parks): stop it once STOP is answered. */
  parksAfterStop: boolean;
}

const MAX_CONSOLE_CHARS = 1024 * 1024;

/** -append's words the qemu-virt image reads through semihosting (serve_uart.h). */
const APPEND: Record<QemuServePort, string> = { semihost: 'serve=semihost', uart: 'serve' };

export async function startServingGuest(build: RunnableBuild & { image: string }, workDir: string, timeoutS: number, port: QemuServePort = 'semihost'): Promise<ServingGuest> {
  if (build.target === 'host') return startProcess(build.image, ['--serve'], workDir, timeoutS, 'stdin/stdout of the host executable (--serve)');
  if (build.target === 'linux') {
    const emulator = (await requireTool('qemu-aarch64')).path;
    return startProcess(emulator, ['-cpu', linuxCpu(build), build.image, '--serve'], workDir, timeoutS, 'stdin/stdout of the executable (--serve) under qemu-aarch64');
  }
  if (build.target === 'efi') {
    const qemu = (await requireTool('qemu-system-aarch64')).path;
    return startProcess(qemu, await efiServeArgs(build, workDir), workDir, timeoutS, 'the firmware\'s serial port (EFI_SERIAL_IO_PROTOCOL: QEMU\'s PL011 on stdin/stdout, shared with EDK2\'s console)');
  }
  if (build.target === 'linux-vm') {
    const qemu = (await requireTool('qemu-system-aarch64')).path;
    return startProcess(qemu, await linuxVmServeArgs(build, workDir), workDir, timeoutS, 'the PL011 console (ttyAMA0) on QEMU\'s stdin/stdout, where /init serves');
  }
  if (build.target === 'rpi3') {
    const qemu = (await requireTool('qemu-system-aarch64')).path;
    // no -icount: under it QEMU's raspi3b UART takes in about 4 KB/s instead of 36 (raspi3Run.ts)
    const guest = startProcess(qemu, raspi3Args(build.board!.machine, build.image, { countInstructions: false }), workDir, timeoutS, `the PL011 UART of ${build.board!.machine} on QEMU's stdin/stdout`);
    return { ...guest, parksAfterStop: true };
  }
  if (build.target !== 'qemu-virt') {
    throw new EdgespecError('stream-unsupported', `edgespec run --inputs does not boot ${build.target} images here yet`, `run its inputs one at a time with --input, or put the image on a board and use --serial DEVICE`);
  }
  const qemu = (await requireTool('qemu-system-aarch64')).path;
  const args = qemuServeArgs(build, workDir, port);
  if (port === 'semihost') {
    await promisify(execFile)('mkfifo', [path.join(workDir, 'serve.in'), path.join(workDir, 'serve.out')]);
    const guest = startProcess(qemu, args, workDir, timeoutS, 'semihosting FIFOs serve.in / serve.out (-append serve=semihost)', false);
    // Opening a FIFO waits for the other end: QEMU opens both when the image starts serving.
    // A guest that ends before that would leave the opens waiting: open the far ends then.
    const fifos = ['serve.in', 'serve.out'].map(f => path.join(workDir, f));
    void guest.exited.then(() => fifos.forEach(f => {
      try {
        closeSync(openSync(f, 'r+'));
      } catch {
        // the directory is gone
      }
    }));
    const writable = createWriteStream(fifos[0]);
    writable.on('error', () => undefined); // a guest gone: the session sees the read side end
    guest.streams = { writable, readable: createReadStream(fifos[1]) };
    return guest;
  }
  const socketPath = path.join(workDir, 'uart.sock');
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  const guest = startProcess(qemu, [...args, '-chardev', `socket,id=uart,path=${socketPath}`, '-serial', 'chardev:uart'], workDir, timeoutS, 'the PL011 UART on a unix socket chardev (-append serve)', false);
  const connection = await new Promise<net.Socket | undefined>(resolve => {
    server.once('connection', resolve);
    void guest.exited.then(() => resolve(undefined));
  });
  server.close();
  if (!connection) {
    const ended = new PassThrough();
    ended.end();
    guest.streams = { readable: ended, writable: new PassThrough() };
    return guest;
  }
  guest.streams = { readable: connection, writable: connection };
  return guest;
}

/** qemu-virt's one-shot command line without the input loader, told to serve. */
export function qemuServeArgs(build: RunnableBuild & { image: string }, workDir: string, port: QemuServePort): string[] {
  const oneShot = qemuVirtArgs(build.qemu!, runFiles(build, workDir));
  const args: string[] = [];
  for (let i = 0; i < oneShot.length; i++) {
    if (oneShot[i] === '-device' && oneShot[i + 1]?.startsWith('loader,')) {
      i++;
      continue;
    }
    if (port === 'uart' && oneShot[i] === '-serial' && oneShot[i + 1] === 'none') {
      i++;
      continue;
    }
    args.push(oneShot[i]);
  }
  return [...args, '-append', APPEND[port]];
}

function startProcess(command: string, args: string[], cwd: string, timeoutS: number, port: string, framesOnStdio = true): ServingGuest {
  const guarded = guardedCommand(command, args, timeoutS);
  const child: ChildProcess = spawn(guarded.command, guarded.args, { cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let consoleText = '';
  const keep = (chunk: Buffer) => {
    if (consoleText.length < MAX_CONSOLE_CHARS) consoleText += chunk.toString('utf8');
  };
  child.stderr!.on('data', keep);
  if (!framesOnStdio) {
    child.stdout!.on('data', keep);
    child.stdin!.end();
  }
  const kill = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const forget = onInterrupt(kill);
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>(resolve => {
    child.on('error', e => resolve({ exitCode: null, signal: `spawn failed: ${e.message}` }));
    child.on('exit', (exitCode, signal) => {
      forget();
      resolve({ exitCode, signal });
    });
  });
  // stdin may close early (a guest that exits): a write then fails with EPIPE, which the session reports
  child.stdin!.on('error', () => undefined);
  return {
    streams: { readable: child.stdout!, writable: child.stdin! },
    console: () => consoleText,
    exited,
    kill,
    port,
    consoleWithFrames: framesOnStdio,
    parksAfterStop: false
  };
}
