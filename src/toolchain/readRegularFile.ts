import { constants, promises as fs, Stats } from 'fs';
import { constants as bufferConstants } from 'buffer';
import { EdgespecError } from './errors';

/**
 * Every file the toolchain reads from a place the user controls (a bundle, a build
 * directory, an --input) goes through here: it must be a regular file, and it is read up to
 * a limit the caller knows, so /dev/zero, a FIFO or a 5 GB file named like an input can
 * neither hang the CLI nor fill its memory.
 */
export interface ReadLimit {
  /** What the file is, for messages: 'input file', 'graph.json', ... */
  what: string;
  /** The most bytes the file may hold. */
  maxBytes: number;
  /** Why that is the limit, e.g. "the model's inputs need 602112 bytes plus a header". */
  why?: string;
  /** What the user should do instead (the error's hint). */
  hint: string;
  /** The caller's own error for a file over the limit (its size, when known). */
  tooLarge?: (bytes: number | undefined) => EdgespecError;
}

const CHUNK_BYTES = 1024 * 1024;

/** "a FIFO (named pipe)", "a directory", ... for a stat that is not a regular file. */
export function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function notRegularFileError(file: string, stat: Stats, limit: Pick<ReadLimit, 'what' | 'hint'>): EdgespecError {
  return new EdgespecError('file-not-regular', `${limit.what} ${file} is ${kindOf(stat)}, not a regular file; edgespec reads only regular files`, limit.hint);
}

function tooLargeError(file: string, bytes: number | undefined, limit: ReadLimit): EdgespecError {
  if (limit.tooLarge) return limit.tooLarge(bytes);
  return new EdgespecError(
    'file-too-large',
    `${limit.what} ${file} is ${bytes ?? `more than ${limit.maxBytes}`} bytes, more than the ${limit.maxBytes} it can be${limit.why ? ` (${limit.why})` : ''}`,
    limit.hint
  );
}

/**
 * The whole content of a regular file of at most `limit.maxBytes` bytes. The path is stat'ed
 * before it is opened (a FIFO is never opened, a device never read), opened non-blocking, and
 * checked again through the descriptor, so a file swapped in between is refused as well.
 * Errors of the system (ENOENT, EACCES, ...) are thrown as they are, for the caller to name.
 */
export async function readRegularFile(file: string, limit: ReadLimit): Promise<Buffer> {
  const before = await fs.stat(file);
  if (!before.isFile()) throw notRegularFileError(file, before, limit);
  const maxBytes = Math.min(limit.maxBytes, bufferConstants.MAX_LENGTH);
  if (before.size > maxBytes) throw tooLargeError(file, before.size, { ...limit, maxBytes });

  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw notRegularFileError(file, opened, limit);
    if (opened.size > maxBytes) throw tooLargeError(file, opened.size, { ...limit, maxBytes });
    const buffer = Buffer.allocUnsafe(opened.size);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled < buffer.length) return buffer.subarray(0, filled);
    // A file that grew since its stat (or a /proc file, whose size says 0) is read on, to the limit.
    const more: Buffer[] = [];
    let total = filled;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLargeError(file, undefined, { ...limit, maxBytes });
      more.push(chunk.subarray(0, bytesRead));
    }
    return more.length === 0 ? buffer : Buffer.concat([buffer, ...more]);
  } finally {
    await handle.close();
  }
}
