/**
 * boot.sh's lines for a linux-vm build (src/toolchain/guest/bootScript.ts writes the header and
 * the input check): the input goes into a second cpio archive after the build's initramfs, and
 * QEMU boots with the console on the terminal. The outputs come back as a frame on the console
 * (binary), which `edgespec run` decodes into output.bin; the script shows the console lines
 * and ends when /init powers the machine off.
 */
import { shellWord } from '../guest/shellWord';
import { linuxVmArgs, ONE_SHOT } from './vmArgs';
import { INITRAMFS_FILE, KERNEL_FILE, VM_APPEND, VM_QEMU } from './packageVm';

const HERE = '/EDGESPEC_HERE';
const WORK = '/EDGESPEC_WORK';

export function linuxVmBootLines(): string {
  const args = linuxVmArgs(
    { kernel: { kind: 'purpose-built', file: KERNEL_FILE, bytes: 0, sha256: '', version: '', source: '' }, initramfs: { file: INITRAMFS_FILE, bytes: 0, sha256: '' }, qemu: VM_QEMU, append: VM_APPEND },
    { kernel: `${HERE}/${KERNEL_FILE}`, initrd: `${WORK}/initrd.img`, console: 'stdio' },
    ONE_SHOT
  );
  const command = args.map((w, i) => (i > 0 && w.startsWith('-') ? ' \\\n  ' : i > 0 ? ' ' : '') + shellWord(w)).join('');
  return `work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$input" "$work/input.bin"
# the kernel finds the second archive only at a 4-byte boundary (zeros between are skipped)
pad=$(( (4 - $(wc -c < "$here"/${INITRAMFS_FILE}) % 4) % 4 ))
{ cat "$here"/${INITRAMFS_FILE}; head -c "$pad" /dev/zero; (cd "$work" && echo input.bin | cpio --quiet -o -H newc); } > "$work/initrd.img"
qemu-system-aarch64 ${command.split(HERE).join('"$here"').split(WORK).join('"$work"')}
`;
}
