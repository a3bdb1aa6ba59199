import { BuildManifest, BuildTensor, Graph, GraphIO } from '../../common/types';
import { ElfFile } from './elf';
import { kernelsUsed } from './emitModelSource';
import { LoweredModel } from './lowerModel';
import type { LoweredInt8 } from './quantize/lowerInt8';
import { outputQuantizationSteps } from './quantize/mixedSchedule';
import { MemoryNeeds } from './memoryCheck';
import { KernelVariant, TargetSpec } from './targets';

export interface ManifestInputs {
  graph: Graph;
  target: TargetSpec;
  lowered: LoweredModel;
  image: { file: string; bytes: number; sha256: string };
  needs: MemoryNeeds;
  /** The linked (unstripped) image, for the exact end of each region. */
  linked?: ElfFile;
  bundle: string;
  producer: string;
  files: BuildManifest['files'];
  profile?: BuildManifest['profile'];
  debugTensors?: BuildManifest['debug_tensors'];
  efi?: BuildManifest['efi'];
  dtype: 'float32' | 'int8';
  kernelVariant: KernelVariant;
}

function tensorsOf(list: GraphIO[], references: string[], steps: (number | undefined)[] = []): BuildTensor[] {
  return list.map((io, i) => ({
    name: io.name,
    tensor: io.tensor,
    shape: [...io.shape],
    dtype: io.dtype,
    layout: io.layout,
    // the image holds integer inputs and outputs (indices, argmax) as the framework gives them
    bytes: io.shape.reduce((a, b) => a * b, 1) * (io.dtype === 'int64' ? 8 : 4),
    reference: references[i] ?? io.name,
    ...(steps[i] !== undefined ? { quantization_step: steps[i] } : {})
  }));
}

/** Bytes of each region the linked image uses, from the linker script's __es_<region>_end symbols. */
function regionUse(linked: ElfFile | undefined, name: string, base: number): number | undefined {
  const end = linked?.symbols.find(s => s.name === `__es_${name}_end`);
  return end ? end.value - base : undefined;
}

/** build.json: what the run stage reads (see BuildManifest in src/common/types.ts). */
export function writeManifest(m: ManifestInputs): BuildManifest {
  const { graph, target, lowered } = m;
  return {
    format: 'edgespec.build',
    version: 1,
    model: graph.name,
    target: target.name,
    dtype: m.dtype,
    kernel_variant: m.kernelVariant,
    bundle: m.bundle,
    image: m.image.file,
    image_bytes: m.image.bytes,
    image_sha256: m.image.sha256,
    inputs: tensorsOf(graph.inputs, graph.reference.inputs),
    outputs: tensorsOf(graph.outputs, graph.reference.outputs, 'quantized' in lowered ? outputQuantizationSteps((lowered as LoweredInt8).quantized) : []),
    ...(target.qemu ? { qemu: { ...target.qemu } } : {}),
    ...(target.name !== 'qemu-virt' && target.name !== 'efi' && target.name !== 'rpi3' ? { host: { argv: ['INPUT_FILE', 'OUTPUT_FILE'] as ('INPUT_FILE' | 'OUTPUT_FILE')[] } } : {}),
    ...(target.userMode ? { linux: { ...target.userMode } } : {}),
    ...(target.board ? { rpi3: { qemu_machine: target.board.qemuMachine, baud: target.board.baud, elf: 'image.elf', config_txt: target.board.configTxt.file } } : {}),
    ...(m.profile ? { profile: m.profile } : {}),
    ...(m.debugTensors ? { debug_tensors: m.debugTensors } : {}),
    ...(m.efi ? { efi: m.efi } : {}),
    ...(m.needs.regions.length > 0
      ? {
          memory: m.needs.regions.map(r => ({
            name: r.name,
            base: `0x${r.base.toString(16)}`,
            size: r.size,
            needed: regionUse(m.linked, r.name, r.base) ?? m.needs.needed[r.name] ?? 0
          }))
        }
      : {}),
    arena: { bytes: lowered.plan.arenaBytes, lower_bound: lowered.plan.lowerBound },
    weights: { file: 'weights.bin', bytes: lowered.blob.data.length, tensors: lowered.blob.entries.length },
    kernels: kernelsUsed(lowered.schedule).map(k => `${k}.c`),
    files: m.files,
    producer: m.producer
  };
}
