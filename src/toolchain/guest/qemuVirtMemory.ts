/**
 * The QEMU memory settings a qemu-virt build may carry besides its platform's defaults: a
 * map the build grew to the model (src/toolchain/build/memoryMap.ts) gives -m in MiB and the
 * input region's address. These reach QEMU's command line, so only that exact form passes.
 */

const MIB = 1024 * 1024;
const RAM_START = 0x40000000;
const ADDRESS_END = 0x100000000;

/** True when memory ("<n>M") and inputAddress ("0x<hex>") are a map memoryMap.ts can write: RAM from 1 GiB to at most 4 GiB, a 2 MiB aligned input region inside it, above the default one. */
export function isGrownQemuVirtMap(memory: unknown, inputAddress: unknown, defaultInputAddress: string): boolean {
  if (typeof memory !== 'string' || typeof inputAddress !== 'string') return false;
  const m = /^([1-9][0-9]{0,4})M$/.exec(memory);
  if (!m || !/^0x[0-9a-f]{1,9}$/.test(inputAddress)) return false;
  const end = RAM_START + Number(m[1]) * MIB;
  const input = Number(inputAddress);
  return Number(m[1]) % 2 === 0 && end <= ADDRESS_END && input % (2 * MIB) === 0 && input >= Number(defaultInputAddress) && input < end;
}
