/**
 * The serial frame protocol of kernels/include/edgespec/frame.h: a 16-byte header (magic
 * 0xE5 'E' 'S' 'F', type, flags, sequence, length), the payload, then a CRC-32 of header
 * and payload. Little-endian.
 */
import { crc32 } from './crc32';

export const FRAME_MAGIC = Buffer.from([0xe5, 0x45, 0x53, 0x46]);
export const FRAME_HEADER_BYTES = 16;
export const FRAME_CRC_BYTES = 4;
/** The device drops a frame whose bytes stop arriving for this long (ES_FRAME_BYTE_TIMEOUT_MS). */
export const FRAME_BYTE_TIMEOUT_MS = 2000;

export enum FrameType {
  Ready = 1,
  Input = 2,
  Output = 3,
  Error = 4,
  Stop = 5
}

export enum FrameError {
  Crc = 1,
  Length = 2,
  Timeout = 3,
  BadInput = 4,
  Model = 5,
  Type = 6
}

export const FRAME_ERROR_NAMES: Record<number, string> = {
  [FrameError.Crc]: 'bad CRC',
  [FrameError.Length]: 'frame too long',
  [FrameError.Timeout]: 'frame timed out',
  [FrameError.BadInput]: 'input does not match the model',
  [FrameError.Model]: 'the model failed',
  [FrameError.Type]: 'unexpected frame type'
};

export interface Frame {
  type: number;
  flags: number;
  sequence: number;
  payload: Buffer;
}

/** The bytes of one frame. */
export function encodeFrame(type: FrameType, sequence: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + payload.length + FRAME_CRC_BYTES);
  FRAME_MAGIC.copy(frame, 0);
  frame.writeUInt16LE(type, 4);
  frame.writeUInt16LE(0, 6);
  frame.writeUInt32LE(sequence >>> 0, 8);
  frame.writeUInt32LE(payload.length, 12);
  frame.set(payload, FRAME_HEADER_BYTES);
  frame.writeUInt32LE(crc32(frame.subarray(0, FRAME_HEADER_BYTES + payload.length)), FRAME_HEADER_BYTES + payload.length);
  return frame;
}

export interface ReadyPayload {
  maxInputBytes: number;
  model: string;
}

export interface OutputPayload {
  /** 0 when the platform cannot count instructions. */
  instructions: bigint;
  /** 0 when the platform has no clock. */
  invokeNs: bigint;
  /** An outputs file (io_format.h, kind 2). */
  outputsFile: Buffer;
}

export interface ErrorPayload {
  code: number;
  message: string;
}

export class FramePayloadError extends Error {}

export function decodeReady(payload: Buffer): ReadyPayload {
  if (payload.length < 8) throw new FramePayloadError(`a READY payload is at least 8 bytes, this one ${payload.length}`);
  const nameBytes = payload.readUInt32LE(4);
  if (payload.length !== 8 + nameBytes) throw new FramePayloadError(`a READY payload with a ${nameBytes}-byte name is ${8 + nameBytes} bytes, this one ${payload.length}`);
  return { maxInputBytes: payload.readUInt32LE(0), model: payload.subarray(8).toString('utf8') };
}

export function decodeOutput(payload: Buffer): OutputPayload {
  if (payload.length < 16) throw new FramePayloadError(`an OUTPUT payload is at least 16 bytes, this one ${payload.length}`);
  return { instructions: payload.readBigUInt64LE(0), invokeNs: payload.readBigUInt64LE(8), outputsFile: payload.subarray(16) };
}

export function decodeError(payload: Buffer): ErrorPayload {
  if (payload.length < 4) throw new FramePayloadError(`an ERROR payload is at least 4 bytes, this one ${payload.length}`);
  return { code: payload.readUInt32LE(0), message: payload.subarray(4).toString('utf8') };
}
