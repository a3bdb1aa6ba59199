/**
 * Splits a device's byte stream into console text lines and frames (frame.h): console lines
 * are ASCII, a frame starts with the byte 0xE5, so the stream is read byte by byte outside
 * frames. Bytes that start like a magic and then differ are console text after all.
 */
import { crc32 } from './crc32';
import { Frame, FRAME_CRC_BYTES, FRAME_HEADER_BYTES, FRAME_MAGIC } from './frame';

export type StreamEvent =
  | { kind: 'line'; text: string }
  | { kind: 'frame'; frame: Frame }
  /** A frame that arrived damaged (bad CRC, absurd length): its bytes are dropped. */
  | { kind: 'bad-frame'; reason: string; sequence?: number };

/** Longest payload a host accepts from a device: far above any model's outputs. */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 30;
/** A console line longer than this is passed on in pieces. */
const MAX_LINE_BYTES = 64 * 1024;

type State = 'text' | 'magic' | 'header' | 'body';

export class FrameStreamReader {
  private state: State = 'text';
  private line: number[] = [];
  private matched = 0;
  private header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body = Buffer.alloc(0);
  private bodyFill = 0;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** The events the bytes of `chunk` complete, in stream order. */
  push(chunk: Uint8Array): StreamEvent[] {
    const events: StreamEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(chunk.length - i, this.body.length - this.bodyFill);
        this.body.set(chunk.subarray(i, i + n), this.bodyFill);
        this.bodyFill += n;
        i += n;
        if (this.bodyFill === this.body.length) events.push(this.finishFrame());
        continue;
      }
      this.byte(chunk[i++], events);
    }
    return events;
  }

  /** Console text received after the last newline (a device that ended mid-line). */
  pendingText(): string {
    return Buffer.from(this.line).toString('latin1');
  }

  private byte(b: number, events: StreamEvent[]): void {
    if (this.state === 'text') {
      if (b === FRAME_MAGIC[0]) {
        this.state = 'magic';
        this.matched = 1;
      } else if (b === 0x0a) {
        this.emitLine(events);
      } else {
        this.line.push(b);
        if (this.line.length >= MAX_LINE_BYTES) this.emitLine(events);
      }
      return;
    }
    if (this.state === 'magic') {
      if (b === FRAME_MAGIC[this.matched]) {
        if (++this.matched === FRAME_MAGIC.length) {
          FRAME_MAGIC.copy(this.header, 0);
          this.headerFill = FRAME_MAGIC.length;
          this.state = 'header';
        }
        return;
      }
      // not a frame: what looked like a magic was text
      for (let k = 0; k < this.matched; k++) this.line.push(FRAME_MAGIC[k]);
      this.state = 'text';
      this.byte(b, events);
      return;
    }
    // header
    this.header[this.headerFill++] = b;
    if (this.headerFill < FRAME_HEADER_BYTES) return;
    const length = this.header.readUInt32LE(12);
    if (length > this.maxFrameBytes) {
      events.push({ kind: 'bad-frame', reason: `a frame announces ${length} payload bytes, more than the ${this.maxFrameBytes} a host takes (a damaged header)` });
      this.state = 'text';
      return;
    }
    this.body = Buffer.alloc(length + FRAME_CRC_BYTES);
    this.bodyFill = 0;
    this.state = 'body';
  }

  private finishFrame(): StreamEvent {
    this.state = 'text';
    const length = this.body.length - FRAME_CRC_BYTES;
    const sequence = this.header.readUInt32LE(8);
    const expected = crc32(this.body.subarray(0, length), crc32(this.header));
    const got = this.body.readUInt32LE(length);
    if (got !== expected) {
      return { kind: 'bad-frame', sequence, reason: `frame ${sequence} (${length} bytes) arrived with CRC 0x${got.toString(16).padStart(8, '0')}, its bytes give 0x${expected.toString(16).padStart(8, '0')}: damaged on the line` };
    }
    return {
      kind: 'frame',
      frame: { type: this.header.readUInt16LE(4), flags: this.header.readUInt16LE(6), sequence, payload: this.body.subarray(0, length) }
    };
  }

  private emitLine(events: StreamEvent[]): void {
    let text = Buffer.from(this.line).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.line = [];
    events.push({ kind: 'line', text });
  }
}
