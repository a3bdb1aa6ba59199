import { DebugTensorDump, DebugTensorsManifest } from '../../common/types';
import { EdgespecError } from '../errors';

const MAGIC = 0x54445345;
const END_STEP = 0xffffffff;
const RECORD_HEADER_BYTES = 16;

export interface DumpedTensor {
  dump: DebugTensorDump;
  data: Buffer;
}

export interface DebugTrace {
  tensors: DumpedTensor[];
  /** The image wrote the end record: the inference finished. */
  complete: boolean;
}

/**
 * debug-tensors.bin (kernels/include/edgespec/debug_tensors.h) read against the build's list
 * of dumps: each record must be the next dump the list names, with its size. A trace cut
 * short (the image stopped) gives the tensors up to there.
 */
export function readDebugTensors(file: Buffer, manifest: DebugTensorsManifest, label: string): DebugTrace {
  const tensors: DumpedTensor[] = [];
  let offset = 0;
  const bad = (what: string) => new EdgespecError('debug-tensors-damaged', `${label}: ${what} at byte ${offset}`, 'build the debug image again (edgespec build --debug-tensors) and run edgespec diff again');
  while (offset + RECORD_HEADER_BYTES <= file.length) {
    const magic = file.readUInt32LE(offset);
    const step = file.readUInt32LE(offset + 4);
    const index = file.readUInt32LE(offset + 8);
    const bytes = file.readUInt32LE(offset + 12);
    if (magic !== MAGIC) throw bad('no record header');
    if (step === END_STEP) {
      if (tensors.length !== manifest.dumps.length) throw bad(`the end record comes after ${tensors.length} of the ${manifest.dumps.length} tensors build.json lists`);
      return { tensors, complete: true };
    }
    const dump = manifest.dumps[tensors.length];
    if (!dump) throw bad(`a record beyond the ${manifest.dumps.length} tensors build.json lists`);
    const writeIndex = manifest.dumps.slice(0, tensors.length).filter(d => d.step === dump.step).length;
    if (step !== dump.step || index !== writeIndex || bytes !== dump.bytes) {
      throw bad(`record ${tensors.length} is step ${step} write ${index} (${bytes} bytes), where build.json lists step ${dump.step} write ${writeIndex} (${dump.bytes} bytes)`);
    }
    const start = offset + RECORD_HEADER_BYTES;
    if (start + bytes > file.length) break;
    tensors.push({ dump, data: file.subarray(start, start + bytes) });
    offset = start + bytes;
  }
  return { tensors, complete: false };
}
