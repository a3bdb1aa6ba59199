// Shapes of the files that travel between stages (see DESIGN.md "Contracts").
// Shared by the toolchain (Node) and the lab extension (browser): no Node imports here.
import type { TargetName } from './targets';

export type DType = 'float32' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool';
export type Layout = 'NCHW' | 'NHWC' | 'NC' | 'ANY';

export interface GraphIO {
  name: string;
  tensor: string;
  shape: number[];
  dtype: DType;
  layout: Layout;
}

export interface GraphTensor {
  shape: number[];
  dtype: DType;
  /** state: what a variable of the model (Graph.state) holds when an invocation starts. */
  kind: 'input' | 'weight' | 'activation' | 'output' | 'state';
  layout?: Layout;
  module?: string;
  /** Given quantization (e.g. from an int8 .tflite): real = scale * (q - zero_point). */
  quantization?: TensorQuantization;
}

/** One scale and zero point for the tensor, or one per index along `axis` (per-channel weights). */
export interface TensorQuantization {
  scale: number[];
  zero_point: number[];
  axis?: number;
}

export interface GraphNode {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, unknown>;
  framework_ops: string[];
  module: string;
  source?: string;
}

/** graph.json, format edgespec.graph version 1 (src/common/schema/graph.schema.json). */
export interface Graph {
  format: 'edgespec.graph';
  version: 1;
  name: string;
  source: {
    framework: 'pytorch' | 'tensorflow' | 'tflite' | 'onnx';
    framework_version: string;
    method: string;
    producer: string;
    model_class?: string;
    entry?: string;
    /** inputs of the model file bound to a constant at capture (--input-value); not inputs of the image */
    bound_inputs?: Record<string, number>;
  };
  inputs: GraphIO[];
  outputs: GraphIO[];
  tensors: Record<string, GraphTensor>;
  nodes: GraphNode[];
  weights: { file: 'weights.safetensors'; sha256: string; bytes: number; count: number };
  /** arithmetic: how the framework computed the reference when it is not the graph's own float32 (edgespec run then uses the int8 bar). */
  reference: { file: 'reference.safetensors'; sha256: string; inputs: string[]; outputs: string[]; arithmetic?: 'dynamic-range int8' | 'float16' };
  op_inventory: Record<string, number>;
  calibration?: Record<string, { min: number; max: number }>;
  /**
   * The framework's own value of intermediate tensors on the reference input, kept by capture
   * for `edgespec diff`: each under its graph tensor's name, in that tensor's shape, layout and
   * dtype (an int8 .tflite's int8 tensors as their integers). Absent when capture kept none.
   */
  intermediates?: { file: 'intermediates.safetensors'; sha256: string; bytes: number; count: number };
  /** Values the model keeps between invocations (a streaming .tflite's variables). */
  state?: GraphState[];
}

/**
 * A value the model keeps between invocations: tensor `read` (kind state) holds it when an
 * invocation starts, tensor `write` when the invocation ends, the weight `initial` before the first.
 */
export interface GraphState {
  name: string;
  read: string;
  write: string;
  initial: string;
}

/** A number that says how it was measured. */
export interface Measured {
  value: number;
  how: string;
}

export type FootprintKind = 'code' | 'rodata' | 'weights' | 'data' | 'bss' | 'arena' | 'stack';

/** A node of the footprint tree: a leaf has bytes and a kind, a group has children. */
export interface FootprintNode {
  name: string;
  bytes: number;
  kind?: FootprintKind;
  /** What the bytes belong to: `platform`, `libc`, `libm`, `kernel:<file>`, `model`, `layer:<module path>`, `elf`. */
  source?: string;
  children?: FootprintNode[];
}

/** footprint.json, format edgespec.footprint version 1. */
export interface Footprint {
  format: 'edgespec.footprint';
  version: 1;
  model: string;
  target: string;
  dtype: string;
  image: { file: string; bytes: number; sha256: string };
  /** root with two children: `flash` (bytes of the image file) and `ram` (bytes that exist only at run time). */
  tree: FootprintNode;
  totals: {
    image_bytes: Measured;
    weights_bytes: Measured;
    overhead_bytes: Measured;
    flash_bytes: Measured;
    peak_ram_bytes: Measured;
  };
  arena: { bytes: number; lower_bound: number; how: string };
  kernels: { name: string; ops: string[]; bytes: number }[];
  reference_stack?: { name: string; bytes: number; how: string }[];
  /** linux-vm: what boots (kernel + initramfs), of which the model's executable is a part. */
  linux_vm?: LinuxVmFootprint;
}

/** footprint.json's linux_vm: the bytes a linux-vm build boots, each file measured on disk. */
export interface LinuxVmFootprint {
  kernel: { kind: 'purpose-built' | 'debian'; version: string; file: string; bytes: number; source: string };
  /** gzip'd newc cpio holding /init (the model's executable) and /dev/console. */
  initramfs: { file: string; bytes: number; uncompressed_bytes: number };
  /** The model's static executable (/init): image_bytes of this footprint. */
  model_bytes: number;
  weights_bytes: number;
  /** kernel + initramfs: what a board loads. */
  total_bytes: number;
  /** Debian's generic arm64 kernel measured on this machine, when it was fetched (scripts/debian-arm64-kernel.sh). */
  generic_kernel?: { name: string; image_bytes: number; installed_bytes: number; how: string };
  how: string;
}

/** build.json's linux_vm: the kernel and initramfs a run boots, and how. */
export interface LinuxVmManifest {
  kernel: { kind: 'purpose-built' | 'debian'; file: string; bytes: number; sha256: string; version: string; source: string };
  initramfs: { file: string; bytes: number; sha256: string };
  qemu: { machine: string; cpu: string; memory: string };
  append: string;
}

/** run.json, format edgespec.run version 1. */
export interface RunReport {
  format: 'edgespec.run';
  version: 1;
  model: string;
  target: string;
  /** The build's dtype (float32 when an older run.json has none). */
  dtype?: 'float32' | 'int8';
  status: 'ok' | 'mismatch' | 'fault' | 'timeout' | 'error';
  exit_code: number | null;
  outputs: { name: string; shape: number[]; dtype: DType; file: string; first: number[] }[];
  agreement?: {
    max_abs_error: number;
    max_rel_error: number;
    max_abs_reference: number;
    tolerance: number;
    within_tolerance: boolean;
    top1_match: boolean;
    top5_match: boolean;
    top5: number[];
    reference_top5: number[];
    /** Integer outputs (indices, argmax results), held to exact equality rather than the tolerance. */
    exact_outputs?: string[];
  };
  guest_instructions?: Measured;
  wall_ms: Measured;
  console: string;
  fault?: { exception_class: string; address: string; symbol: string; esr: string };
  error?: string;
  input: string;
  /** A profiling build's per-step counts of the run (one inference). */
  profile?: RunProfile;
  /** NaN and ±Inf values in the input and (once read) the outputs; absent in an older run.json. */
  non_finite?: { inputs: number; outputs?: number };
  /** A streamed run (edgespec run --inputs / --serial): many inputs through one boot in serve mode. */
  stream?: RunStream;
}

/** run.json's streamed run: one entry per input, answered in frames (kernels/include/edgespec/frame.h). */
export interface RunStream {
  /** What carried the frames: a FIFO, a UART chardev, the executable's stdin/stdout, a serial device. */
  port: string;
  /** From starting the guest (or opening the device) to its READY frame. */
  ready_ms: number;
  inputs: number;
  /** Inputs answered with outputs; `agreeing` of them within the bar, when expected outputs were given. */
  answered: number;
  agreeing?: number;
  /** Where the expected outputs came from, when compared. */
  expected?: string;
  steps: RunStreamStep[];
}

export interface RunStreamStep {
  index: number;
  /** The file (and index) the input came from. */
  input: string;
  status: 'ok' | 'mismatch' | 'error' | 'timeout' | 'not-run';
  /** Host time from sending the input frame to its answer. */
  wall_ms: number;
  /** From the OUTPUT frame: es_model_invoke's guest instructions (qemu-virt) or nanoseconds (host clock). */
  guest_instructions?: number;
  invoke_ns?: number;
  /** The step's output files, relative to the build directory. */
  outputs?: string[];
  first?: number[];
  agreement?: RunReport['agreement'];
  error?: string;
}

/** What build.json says of a profiling build's steps: the order of the counts the guest prints. */
export interface ProfileManifest {
  /** What each count is: 'instructions' (qemu-virt, -icount) or 'ns' (host, linux: a clock). */
  unit: 'instructions' | 'ns';
  steps: { step: number; op: string; kernel: string; module: string }[];
}

/** run.json's per-layer profile: the count between the marks before and after each step. */
export interface RunProfile {
  unit: 'instructions' | 'ns';
  how: string;
  /** Sum of the steps; compare with guest_instructions (qemu-virt) to see what the marks cost. */
  total: number;
  steps: { step: number; op: string; kernel: string; module: string; count: number }[];
}

/** One line of `--json` output (DESIGN.md "CLI events"). */
export type CliEvent =
  | { event: 'progress'; stage: string; done: number; total: number; message?: string }
  | { event: 'log'; level: 'info' | 'warn' | 'debug'; message: string }
  | { event: 'result'; command: string; data: unknown }
  | { event: 'error'; code: string; message: string; hint?: string; details?: unknown };

/** One input or output of a built image. Its bytes are dense, in the bundle's own layout and dtype. */
export interface BuildTensor {
  name: string;
  /** The graph tensor it carries. */
  tensor: string;
  shape: number[];
  dtype: DType;
  /** The bundle's layout (e.g. NCHW): the image converts to and from NHWC itself. */
  layout: Layout;
  bytes: number;
  /** Its name in the bundle's reference.safetensors. */
  reference: string;
  /**
   * An int8 image's output dequantized from an int8 value: that value's scale. Two answers one
   * step apart are as close as the output's int8 grid allows, so the int8 bar is never below it.
   */
  quantization_step?: number;
}

/**
 * build.json, format edgespec.build version 1: what `edgespec build` made and what
 * `edgespec run` needs to start it. Paths are relative to the build directory.
 * Inputs and outputs travel in the I/O file format of kernels/include/edgespec/io_format.h.
 */
export interface BuildManifest {
  format: 'edgespec.build';
  version: 1;
  model: string;
  target: TargetName;
  /** The image's arithmetic (`edgespec build --dtype`); inputs and outputs keep the bundle's dtypes (float32, integer indices). Absent: float32. */
  dtype?: 'float32' | 'int8';
  /** `edgespec build --kernel-variant`: 'portable' compiled every source with -DES_NO_NEON. Absent: 'neon'. */
  kernel_variant?: 'neon' | 'portable';
  /** The bundle the image was built from. */
  bundle: string;
  /** The image file: a bare-metal ELF (qemu-virt), an executable (host), stripped, or the raw kernel8.img (rpi3). */
  image: string;
  image_bytes: number;
  image_sha256: string;
  inputs: BuildTensor[];
  outputs: BuildTensor[];
  /** qemu-virt: how to boot it. QEMU's loader puts the input file at input_address. */
  qemu?: { machine: string; cpu: string; memory: string; input_address: string };
  /** host and linux: the executable's arguments, in order. */
  host?: { argv: ('INPUT_FILE' | 'OUTPUT_FILE')[] };
  /** linux: off an ARM64 board the executable runs under this user-mode emulator and CPU. */
  linux?: { emulator: string; cpu: string };
  /** linux-vm: the kernel and initramfs to boot (the image is /init inside the initramfs). */
  linux_vm?: LinuxVmManifest;
  /** rpi3: the board QEMU models, the UART's baud rate and the files the SD card's boot partition takes. */
  rpi3?: { qemu_machine: string; baud: number; elf: string; config_txt: string };
  /** efi: the stripped ELF the .EFI was made from, the bootable FAT disk image, and the QEMU machine and firmware that run it. */
  efi?: { elf: string; disk_image: string; machine: string; cpu: string; memory: string; firmware_code: string; firmware_vars: string };
  /** A profiling build (edgespec build --profile): the model records a count after each step. */
  profile?: ProfileManifest;
  /** A debug-tensors build (edgespec build --debug-tensors): what the image dumps after each step. */
  debug_tensors?: DebugTensorsManifest;
  /** Memory regions of a bare-metal image with the bytes it needs of each. */
  memory?: { name: string; base: string; size: number; needed: number }[];
  arena: { bytes: number; lower_bound: number };
  weights: { file: string; bytes: number; tensors: number };
  kernels: string[];
  files: { footprint: string; log: string; map: string; linked: string; model_source: string };
  producer: string;
}

/**
 * build.json's debug_tensors: the tensors a debug build dumps, in the order the image writes
 * them to debug-tensors.bin (kernels/include/edgespec/debug_tensors.h): after each step, each
 * tensor the step writes.
 */
export interface DebugTensorsManifest {
  file: 'debug-tensors.bin';
  dumps: DebugTensorDump[];
}

export interface DebugTensorDump {
  /** Index of the step in the schedule (the same index as the profile's). */
  step: number;
  /** The schedule's tensor name. */
  tensor: string;
  /** The graph.json tensor whose value it holds (in another layout or dtype), if any. */
  graph_tensor: string | null;
  /** Shape in memory, and how it maps to the graph tensor's order: NHWC memory of an NCHW tensor, or the same order. */
  shape: number[];
  layout: 'NCHW' | 'NHWC' | 'plain';
  dtype: 'float32' | 'int8';
  /** int8 tensors: real = scale * (q - zero_point). */
  scale?: number;
  zero_point?: number;
  bytes: number;
  op: string;
  kernel: string;
  module: string;
  /** The graph node the step computes (the first, when passes fused several), its framework ops and source line. */
  node: string;
  framework_ops: string[];
  source?: string;
}

/** One layer of divergence.json: the image's value of one step's output against the framework's. */
export interface DivergenceLayer {
  /** Index among the compared rows (depth in the schedule), and the schedule step it came from. */
  index: number;
  step: number;
  tensor: string;
  graph_tensor: string | null;
  op: string;
  kernel: string;
  /** The graph node(s) the step computes: attributes of the first, framework ops of all. */
  node: string;
  attrs: Record<string, unknown>;
  framework_ops: string[];
  module: string;
  /** The user's source line that made the node, when capture knew it. */
  source?: string;
  shape: number[];
  dtype: 'float32' | 'int8';
  /** false when there is no framework value for this tensor; `why` says why. */
  compared: boolean;
  why?: string;
  max_abs_error?: number;
  /** max_abs_error / max |framework value| of this tensor. */
  max_rel_error?: number;
  cosine?: number;
  max_abs_reference?: number;
  /** int8: the error in quantization steps of this tensor (max |image - framework| / scale). */
  quant_steps?: number;
  /** The bar this row is held to, in the unit of `tolerance_unit`. */
  tolerance?: number;
  tolerance_unit?: 'relative' | 'quant_steps';
  within_tolerance?: boolean;
  /** A few values side by side, in the graph tensor's order: the first ones and those around the largest error. */
  values?: { index: number; image: number; framework: number }[];
}

/** divergence.json, format edgespec.divergence version 1: `edgespec diff BUILD`. */
export interface DivergenceReport {
  format: 'edgespec.divergence';
  version: 1;
  model: string;
  target: string;
  dtype: 'float32' | 'int8';
  /** The build it diagnoses and the debug build that was run (relative to the bundle). */
  build: string;
  debug_build: string;
  framework: string;
  /** agrees: every compared layer within tolerance; diverges: `first_divergent` names the first that is not. */
  status: 'agrees' | 'diverges';
  /** Index into `layers` of the first layer over its tolerance, or null. */
  first_divergent: number | null;
  how: string;
  layers: DivergenceLayer[];
  /** The debug image's run: its console and measured counts. */
  run: { wall_ms: Measured; guest_instructions?: Measured; console: string };
}
