/**
 * A newc ("070701") cpio archive, the format the Linux kernel unpacks into its initramfs:
 * per entry a 110-byte ASCII header (13 fields of 8 hex digits), the NUL-terminated name,
 * padding to 4 bytes, the data, padding to 4 bytes; the archive ends with the entry
 * "TRAILER!!!". The kernel takes several archives one after another, so `edgespec run`
 * appends one holding /input.bin to the build's initramfs.
 */

export type CpioEntry =
  | { kind: 'dir'; name: string; mode?: number }
  | { kind: 'file'; name: string; data: Buffer; mode?: number }
  | { kind: 'char-device'; name: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function entryBytes(ino: number, name: string, mode: number, data: Buffer, rdev: [number, number]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/**
 * The archive of `entries`, in order (a directory before what it holds), owned by root, with
 * modification time 0 so that the same entries always give the same bytes.
 */
export function newcArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const name = e.name.replace(/^\/+/, '');
    if (!name || name.split('/').some(p => p === '..' || p === '')) throw new Error(`internal: cpio entry name ${JSON.stringify(e.name)}`);
    const ino = i + 1;
    if (e.kind === 'dir') parts.push(...entryBytes(ino, name, S_IFDIR | (e.mode ?? 0o755), Buffer.alloc(0), [0, 0]));
    else if (e.kind === 'file') parts.push(...entryBytes(ino, name, S_IFREG | (e.mode ?? 0o644), e.data, [0, 0]));
    else parts.push(...entryBytes(ino, name, S_IFCHR | (e.mode ?? 0o600), Buffer.alloc(0), [e.major, e.minor]));
  });
  parts.push(...entryBytes(0, 'TRAILER!!!', 0, Buffer.alloc(0), [0, 0]));
  return Buffer.concat(parts);
}
