/**
 * The efi target's disk: an MBR disk image with one FAT partition (type 0xEF, EFI System)
 * from 1 MiB, made with dosfstools' mkfs.fat and mtools' mmd/mcopy, that EDK2 (and any UEFI
 * firmware) boots from EFI/BOOT/BOOTAA64.EFI, the removable-media path. A bare FAT
 * "superfloppy" boots in EDK2 too, but firmware on real boards looks for a partition table;
 * one layout serves both the build's efi-boot.img (written to a stick with dd) and runs.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { EdgespecError } from '../errors';
import { findOnPath } from '../tools/locate';

export const PARTITION_OFFSET = 1024 * 1024;
const SECTOR = 512;
const MIB = 1024 * 1024;
/** EDK2's FAT driver and mkfs.fat agree on FAT16/FAT32 from here; smaller disks get FAT12. */
const MIN_PARTITION_BYTES = 8 * MIB;

/** Runs one tool; throws with its output when it fails. */
export type ToolRunner = (file: string, args: string[], what: string) => Promise<void>;

export interface DiskFile {
  /** A file on this machine. */
  source: string;
  /** Its path on the FAT volume, '/'-separated, e.g. EFI/BOOT/BOOTAA64.EFI. */
  dest: string;
}

/** dosfstools' mkfs.fat: /usr/sbin is not on every user's PATH. */
export function mkfsFatPath(): string | undefined {
  return findOnPath('mkfs.fat') ?? ['/usr/sbin/mkfs.fat', '/sbin/mkfs.fat'].find(f => findOnPath(path.basename(f), path.dirname(f)));
}

export function requireDiskTools(): { mkfs: string; mmd: string; mcopy: string } {
  const mkfs = mkfsFatPath();
  if (!mkfs) throw new EdgespecError('missing-tool', 'missing mkfs.fat (dosfstools), needed to make the efi target\'s FAT disk image', 'install with: apt-get install -y dosfstools', { tool: 'dosfstools' });
  const mmd = findOnPath('mmd');
  const mcopy = findOnPath('mcopy');
  if (!mmd || !mcopy) throw new EdgespecError('missing-tool', 'missing mmd/mcopy (mtools), needed to put files on the efi target\'s FAT disk image', 'install with: apt-get install -y mtools', { tool: 'mtools' });
  // mtools refuses a file system whose size is not a whole number of tracks of its idea of a
  // disk geometry; FAT itself has no such rule (and the tools edgespec starts inherit this)
  process.env.MTOOLS_SKIP_CHECK = '1';
  return { mkfs, mmd, mcopy };
}

/** mtools addresses the partition inside the disk file with IMAGE@@OFFSET. */
export function partitionSpec(disk: string): string {
  return `${disk}@@${PARTITION_OFFSET}`;
}

/** The partition's size: the files, room for `spareBytes` more (the run's output), FAT and directory overhead, whole MiB. */
export function partitionBytes(fileBytes: number, spareBytes: number): number {
  const wanted = Math.ceil(((fileBytes + spareBytes) * 1.1 + 2 * MIB) / MIB) * MIB;
  return Math.max(MIN_PARTITION_BYTES, wanted);
}

/** A master boot record with one partition of type 0xEF (EFI System) from PARTITION_OFFSET. */
export function masterBootRecord(partitionBytes: number): Buffer {
  const mbr = Buffer.alloc(SECTOR);
  const entry = 446;
  mbr[entry] = 0x00; // not active: UEFI ignores the flag
  mbr.set([0xfe, 0xff, 0xff], entry + 1); // CHS start: "use LBA"
  mbr[entry + 4] = 0xef;
  mbr.set([0xfe, 0xff, 0xff], entry + 5); // CHS end
  mbr.writeUInt32LE(PARTITION_OFFSET / SECTOR, entry + 8);
  mbr.writeUInt32LE(partitionBytes / SECTOR, entry + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

/**
 * Writes the disk image `out`: the MBR, then a FAT file system (volume label EDGESPEC,
 * constant volume id and times, so the same files give the same bytes) holding `files`,
 * with `spareBytes` of room left.
 */
export async function makeFatDisk(out: string, files: DiskFile[], spareBytes: number, run: ToolRunner): Promise<void> {
  const tools = requireDiskTools();
  let fileBytes = 0;
  for (const f of files) fileBytes += (await fs.stat(f.source)).size;
  const bytes = partitionBytes(fileBytes, spareBytes);
  const handle = await fs.open(out, 'w');
  try {
    await handle.write(masterBootRecord(bytes), 0, SECTOR, 0);
    await handle.truncate(PARTITION_OFFSET + bytes);
  } finally {
    await handle.close();
  }
  await run(tools.mkfs, ['--invariant', '-n', 'EDGESPEC', `--offset=${PARTITION_OFFSET / SECTOR}`, out, String(bytes / 1024)], 'making the FAT file system');
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.dest.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const sorted = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  if (sorted.length) await run(tools.mmd, ['-i', partitionSpec(out), ...sorted.map(d => `::/${d}`)], 'making directories on the FAT volume');
  for (const f of files) await run(tools.mcopy, ['-m', '-i', partitionSpec(out), f.source, `::/${f.dest}`], `copying ${path.basename(f.source)} onto the FAT volume`);
}

/** Copies `name` out of the disk's FAT volume to `dest`; false when the volume has no such file. */
export async function copyFromFatDisk(disk: string, name: string, dest: string, run: ToolRunner): Promise<boolean> {
  const { mcopy } = requireDiskTools();
  try {
    await run(mcopy, ['-n', '-i', partitionSpec(disk), `::/${name}`, dest], `copying ${name} off the FAT volume`);
  } catch (e) {
    if (/not found|No such file/i.test((e as Error).message)) return false;
    throw e;
  }
  return true;
}
