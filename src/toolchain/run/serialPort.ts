/**
 * A real serial device (a USB-serial adapter's /dev/ttyUSB0, a board's /dev/ttyAMA0, a
 * pseudo-terminal) as the frame stream of `edgespec run --serial DEV [--baud N]`: set raw
 * at the baud rate with stty, then read and written through Node's tty streams (event-loop
 * reads, so closing never leaves a blocked read behind).
 */
import { execFile } from 'child_process';
import { closeSync, constants, openSync } from 'fs';
import * as tty from 'tty';
import { promisify } from 'util';
import { EdgespecError } from '../errors';
import { ConnectionStreams } from '../serve/connection';

export const DEFAULT_BAUD = 115200;

export interface SerialPort {
  streams: ConnectionStreams;
  close(): void;
}

export async function openSerialPort(device: string, baud = DEFAULT_BAUD): Promise<SerialPort> {
  try {
    await promisify(execFile)('stty', ['-F', device, String(baud), 'raw', '-echo', '-echoe', '-echok', '-ixon', '-ixoff', 'clocal', 'cs8', '-cstopb', '-parenb']);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    throw new EdgespecError('serial-unusable', `cannot set ${device} to ${baud} baud, raw: ${stderr}`, `check the device name (ls /dev/ttyUSB* /dev/ttyACM*), that you may use it (the dialout group: sudo usermod -aG dialout $USER, then log in again), and that --baud is a rate stty knows`);
  }
  let readFd: number, writeFd: number;
  try {
    readFd = openSync(device, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    writeFd = openSync(device, constants.O_WRONLY | constants.O_NOCTTY);
  } catch (e) {
    throw new EdgespecError('serial-unusable', `cannot open ${device}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the device name and that you may use it (the dialout group)');
  }
  if (!tty.isatty(readFd)) {
    closeSync(readFd);
    closeSync(writeFd);
    throw new EdgespecError('serial-unusable', `${device} is not a terminal device`, 'pass a serial device, e.g. --serial /dev/ttyUSB0');
  }
  const readable = new tty.ReadStream(readFd);
  const writable = new tty.WriteStream(writeFd);
  return {
    streams: { readable, writable },
    close() {
      readable.destroy();
      writable.destroy();
    }
  };
}
