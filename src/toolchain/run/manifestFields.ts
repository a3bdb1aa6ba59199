import { BuildManifest, BuildTensor, DType, LinuxVmManifest } from '../../common/types';
import { byteSize } from '../bundle/dtype';
import { ITEM_BYTES } from '../bundle/safetensors';
import { EdgespecError } from '../errors';
import { loadTarget } from '../build/targets';
import type { EfiGuest } from '../guest/guestArgs';
import { checkedLinuxVm } from '../linuxVm/manifestCheck';
import { TargetName, TARGETS } from '../../common/targets';
import { isGrownQemuVirtMap } from '../guest/qemuVirtMemory';

function isTarget(value: unknown): value is TargetName {
  return (TARGETS as readonly unknown[]).includes(value);
}

/** The fields of build.json that `edgespec run` uses, each checked. */
export interface ManifestFields {
  model: string;
  target: TargetName;
  dtype: 'float32' | 'int8';
  bundle: string;
  /** A plain file name inside the build directory. */
  image: string;
  imageSha256: string;
  inputs: BuildTensor[];
  outputs: BuildTensor[];
  qemu?: { machine: string; cpu: string; memory: string; inputAddress: string };
  /** efi: the disk image, the QEMU machine and firmware, as this edgespec's platform file gives them. */
  efi?: EfiGuest;
  hostArgv?: NonNullable<BuildManifest['host']>['argv'];
  userMode?: { emulator: string; cpu: string };
  board?: { machine: string; baud: number };
  linuxVm?: LinuxVmManifest;
  profile?: BuildManifest['profile'];
  debugTensors?: BuildManifest['debug_tensors'];
}

/** The I/O file format stores each tensor's size in 32 bits and holds at most 16 tensors. */
const MAX_TENSOR_BYTES = 0xffffffff;
const MAX_TENSORS = 16;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * build.json is data a user can edit or receive from someone else, and some of it reaches a
 * command line (QEMU's machine, CPU, memory and loader address; the emulator and its CPU;
 * the image path). Everything is checked here, and what reaches a command line must be the
 * very value this edgespec's platform files (kernels/platform/<target>/build.json) give.
 */
export function checkedManifestFields(manifest: unknown, file: string, rebuild: string): ManifestFields {
  const bad = (field: string, want: string): never => {
    throw new EdgespecError('build-manifest-invalid', `${file}: ${field} is missing or not ${want}`, rebuild);
  };
  const notOurs = (field: string, got: unknown, want: string): never => {
    throw new EdgespecError(
      'build-manifest-invalid',
      `${file}: ${field} is ${JSON.stringify(got)}, but edgespec runs this target with ${JSON.stringify(want)}; build.json was edited or written by another edgespec version`,
      rebuild
    );
  };
  if (!isObject(manifest)) return bad('the manifest', 'an object');
  const m = manifest;
  if (m.format !== 'edgespec.build') return bad('format', '"edgespec.build"');
  if (!isTarget(m.target)) return bad('target', `${TARGETS.map(t => JSON.stringify(t)).join(', ')} (the targets edgespec run can start)`);
  if (typeof m.model !== 'string') return bad('model', 'a string');
  if (typeof m.bundle !== 'string' || m.bundle === '' || m.bundle.includes('\0')) return bad('bundle', 'a path');
  if (typeof m.image !== 'string' || !/^[^/\\\0]+$/.test(m.image) || m.image === '.' || m.image === '..') {
    return bad('image', 'the name of a file inside the build directory (no directory part)');
  }
  if (typeof m.image_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.image_sha256)) return bad('image_sha256', 'a sha256 in 64 lowercase hex digits');
  if (m.dtype !== undefined && m.dtype !== 'float32' && m.dtype !== 'int8') return bad('dtype', '"float32" or "int8"');

  const tensors = (field: 'inputs' | 'outputs'): BuildTensor[] => {
    const list = m[field];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TENSORS) return bad(field, `a list of 1 to ${MAX_TENSORS} tensors`);
    return list.map((t: unknown, i: number) => {
      const where = `${field}[${i}]`;
      if (!isObject(t) || typeof t.name !== 'string' || typeof t.reference !== 'string') return bad(where, 'an object with name, shape, dtype, bytes and reference');
      if (typeof t.dtype !== 'string' || !(t.dtype in ITEM_BYTES)) return bad(`${where}.dtype`, `one of ${Object.keys(ITEM_BYTES).join(', ')}`);
      const dtype = t.dtype as DType;
      if (!Array.isArray(t.shape) || !t.shape.every(isCount)) return bad(`${where}.shape`, 'a list of non-negative integers');
      const shape = t.shape as number[];
      const bytes = byteSize(shape, dtype);
      if (!isCount(t.bytes) || t.bytes !== bytes || bytes > MAX_TENSOR_BYTES) return bad(`${where}.bytes`, `the size of its dtype and shape (${bytes}), at most ${MAX_TENSOR_BYTES}`);
      const step = t.quantization_step;
      if (step !== undefined && !(typeof step === 'number' && Number.isFinite(step) && step > 0)) return bad(`${where}.quantization_step`, 'a positive number (the scale of the int8 value the output is dequantized from)');
      return { ...(t as unknown as BuildTensor), dtype, shape };
    });
  };

  const fields: ManifestFields = {
    model: m.model,
    target: m.target,
    dtype: m.dtype === 'int8' ? 'int8' : 'float32',
    bundle: m.bundle,
    image: m.image,
    imageSha256: m.image_sha256,
    inputs: tensors('inputs'),
    outputs: tensors('outputs')
  };
  const platform = loadTarget(m.target);

  if (m.target === 'qemu-virt') {
    const q = m.qemu;
    const expected = platform.qemu;
    if (!isObject(q)) return bad('qemu', 'an object');
    if (!expected) throw new Error('internal: the qemu-virt platform has no qemu settings');
    // a model larger than the default map gets a grown one: -m and the input address of its own
    const grown = isGrownQemuVirtMap(q.memory, q.input_address, expected.input_address);
    for (const key of grown ? (['machine', 'cpu'] as const) : (['machine', 'cpu', 'memory', 'input_address'] as const)) {
      if (q[key] !== expected[key]) notOurs(`qemu.${key}`, q[key], expected[key]);
    }
    fields.qemu = grown
      ? { machine: expected.machine, cpu: expected.cpu, memory: q.memory as string, inputAddress: q.input_address as string }
      : { machine: expected.machine, cpu: expected.cpu, memory: expected.memory, inputAddress: expected.input_address };
  } else if (m.target === 'efi') {
    fields.efi = checkedEfi(m.efi, platform.efi, bad, notOurs);
  } else if (m.target === 'rpi3') {
    const r = m.rpi3;
    const expected = platform.board;
    if (!isObject(r)) return bad('rpi3', 'an object with qemu_machine, baud, elf and config_txt');
    if (!expected) throw new Error('internal: the rpi3 platform has no board settings');
    if (r.qemu_machine !== expected.qemuMachine) notOurs('rpi3.qemu_machine', r.qemu_machine, expected.qemuMachine);
    if (r.baud !== expected.baud) notOurs('rpi3.baud', r.baud, String(expected.baud));
    fields.board = { machine: expected.qemuMachine, baud: expected.baud };
  } else {
    const argv = isObject(m.host) ? m.host.argv : undefined;
    if (!Array.isArray(argv) || argv.length !== 2 || !argv.includes('INPUT_FILE') || !argv.includes('OUTPUT_FILE')) return bad('host.argv', 'INPUT_FILE and OUTPUT_FILE, in the order the executable takes them');
    fields.hostArgv = argv as ('INPUT_FILE' | 'OUTPUT_FILE')[];
  }
  if (m.target === 'linux') {
    const l = m.linux;
    const expected = platform.userMode;
    if (!isObject(l)) return bad('linux', 'an object with emulator and cpu');
    if (!expected) throw new Error('internal: the linux platform has no user-mode emulator');
    if (l.emulator !== expected.emulator) notOurs('linux.emulator', l.emulator, expected.emulator);
    if (l.cpu !== expected.cpu) notOurs('linux.cpu', l.cpu, expected.cpu);
    fields.userMode = { emulator: expected.emulator, cpu: expected.cpu };
  }
  if (m.target === 'linux-vm') fields.linuxVm = checkedLinuxVm(m.linux_vm, bad, notOurs);
  if (m.profile !== undefined) {
    const p = m.profile;
    if (!isObject(p) || (p.unit !== 'instructions' && p.unit !== 'ns') || !Array.isArray(p.steps)) return bad('profile', 'an object with unit and steps');
    p.steps.forEach((s: unknown, i: number) => {
      if (!isObject(s) || !isCount(s.step) || typeof s.op !== 'string' || typeof s.kernel !== 'string' || typeof s.module !== 'string') {
        bad(`profile.steps[${i}]`, 'an object with step, op, kernel and module');
      }
    });
    fields.profile = p as unknown as BuildManifest['profile'];
  }
  if (m.debug_tensors !== undefined) {
    const d = m.debug_tensors;
    if (!isObject(d) || d.file !== 'debug-tensors.bin' || !Array.isArray(d.dumps)) return bad('debug_tensors', 'an object with file debug-tensors.bin and dumps');
    d.dumps.forEach((t: unknown, i: number) => {
      const ok = isObject(t) && isCount(t.step) && typeof t.tensor === 'string' && (t.graph_tensor === null || typeof t.graph_tensor === 'string') &&
        Array.isArray(t.shape) && t.shape.every(isCount) && (t.dtype === 'float32' || t.dtype === 'int8') && isCount(t.bytes) &&
        ['NCHW', 'NHWC', 'plain'].includes(t.layout as string) && typeof t.node === 'string' && Array.isArray(t.framework_ops);
      if (!ok) bad(`debug_tensors.dumps[${i}]`, 'an object with step, tensor, graph_tensor, shape, layout, dtype, bytes, node and framework_ops');
    });
    fields.debugTensors = d as unknown as BuildManifest['debug_tensors'];
  }
  return fields;
}

/** build.json's efi section: every value that reaches QEMU's command line must be the platform's own. */
function checkedEfi(
  e: unknown, expected: ReturnType<typeof loadTarget>['efi'], bad: (field: string, want: string) => never, notOurs: (field: string, got: unknown, want: string) => never
): EfiGuest {
  if (!isObject(e)) return bad('efi', 'an object');
  if (!expected) throw new Error('internal: the efi platform has no efi settings');
  const want: NonNullable<BuildManifest['efi']> = {
    elf: 'image.elf', disk_image: expected.diskImage, machine: expected.machine, cpu: expected.cpu, memory: expected.memory,
    firmware_code: expected.firmwareCode, firmware_vars: expected.firmwareVars
  };
  for (const key of Object.keys(want) as (keyof typeof want)[]) {
    if (e[key] !== want[key]) notOurs(`efi.${key}`, e[key], want[key]);
  }
  return { machine: want.machine, cpu: want.cpu, memory: want.memory, firmwareCode: want.firmware_code, firmwareVars: want.firmware_vars, diskImage: want.disk_image };
}
