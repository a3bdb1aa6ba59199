/**
 * One connection to a serving device over any Node duplex (a child's stdio, a socket, a
 * serial device opened as a file): console lines are collected, frames are queued for
 * whoever waits for the next answer.
 */
import { Duplex, Readable, Writable } from 'stream';
import { Frame, FrameType, encodeFrame } from './frame';
import { FrameStreamReader, StreamEvent } from './streamReader';

export type Answer = { kind: 'frame'; frame: Frame } | { kind: 'bad-frame'; reason: string; sequence?: number };

/** What ended waiting for an answer without one. */
export class ConnectionWaitError extends Error {
  constructor(readonly why: 'timeout' | 'closed', message: string) {
    super(message);
  }
}

export interface ConnectionStreams {
  readable: Readable;
  writable: Writable;
}

export class ServeConnection {
  readonly lines: string[] = [];
  private readonly reader = new FrameStreamReader();
  private readonly answers: Answer[] = [];
  private wake: (() => void) | undefined;
  private closedBecause: string | undefined;
  private readonly writable: Writable;

  constructor(stream: Duplex | ConnectionStreams, private readonly onLine?: (text: string) => void) {
    const readable = 'readable' in stream && stream.readable instanceof Readable ? stream.readable : (stream as Duplex);
    this.writable = 'writable' in stream && stream.writable instanceof Writable ? stream.writable : (stream as Duplex);
    readable.on('data', (chunk: Buffer) => this.take(this.reader.push(chunk)));
    const closed = (why: string) => () => {
      this.closedBecause ??= why;
      this.wake?.();
    };
    readable.on('end', closed('the device closed the connection'));
    readable.on('close', closed('the device closed the connection'));
    readable.on('error', (e: Error) => closed(`reading from the device failed: ${e.message}`)());
    this.writable.on('error', (e: Error) => closed(`writing to the device failed: ${e.message}`)());
  }

  /** Why the connection ended, or undefined while it is open. */
  get closed(): string | undefined {
    return this.closedBecause;
  }

  /** Sends bytes as they are (a frame, or a damaged one in tests). */
  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closedBecause) return reject(new ConnectionWaitError('closed', this.closedBecause));
      this.writable.write(bytes, e => (e ? reject(new ConnectionWaitError('closed', `writing to the device failed: ${e.message}`)) : resolve()));
    });
  }

  sendFrame(type: FrameType, sequence: number, payload?: Uint8Array): Promise<void> {
    return this.send(encodeFrame(type, sequence, payload));
  }

  /** The next frame (or damaged frame) from the device, within timeoutMs. */
  async nextAnswer(timeoutMs: number): Promise<Answer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.answers.shift();
      if (answer) return answer;
      if (this.closedBecause) throw new ConnectionWaitError('closed', this.closedBecause);
      const left = deadline - Date.now();
      if (left <= 0) throw new ConnectionWaitError('timeout', `no answer from the device within ${timeoutMs} ms`);
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Waits until a console line satisfies `test` (or the connection ends, or time runs out); true if one did. */
  async waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some(test)) {
      if (this.closedBecause || Date.now() >= deadline) return this.lines.some(test);
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now())));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return true;
  }

  private take(events: StreamEvent[]): void {
    for (const event of events) {
      if (event.kind === 'line') {
        this.lines.push(event.text);
        this.onLine?.(event.text);
      } else {
        this.answers.push(event);
      }
    }
    if (events.length) this.wake?.();
  }
}
