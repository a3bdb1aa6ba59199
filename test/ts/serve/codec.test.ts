/** The host side of the frame protocol: CRC-32, frame encoding and the stream reader that splits console lines from frames. */
import * as zlib from 'zlib';
import { crc32 } from '../../../src/toolchain/serve/crc32';
import { decodeError, decodeOutput, decodeReady, encodeFrame, FrameType } from '../../../src/toolchain/serve/frame';
import { FrameStreamReader, StreamEvent } from '../../../src/toolchain/serve/streamReader';

const summary = (events: StreamEvent[]) =>
  events.map(e => (e.kind === 'line' ? `line:${e.text}` : e.kind === 'frame' ? `frame:${e.frame.type}/${e.frame.sequence}/${e.frame.payload.toString('latin1')}` : `bad:${e.sequence ?? '?'}`));

test('crc32 is zlib.crc32, also continued across pieces', () => {
  expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff));
  expect(crc32(bytes)).toBe(zlib.crc32(bytes));
  expect(crc32(bytes.subarray(1234), crc32(bytes.subarray(0, 1234)))).toBe(zlib.crc32(bytes));
  expect(crc32(Buffer.alloc(0))).toBe(0);
});

test('encodeFrame lays out the header, payload and CRC of frame.h', () => {
  const frame = encodeFrame(FrameType.Input, 0x01020304, Buffer.from('abc'));
  expect(frame.subarray(0, 4)).toEqual(Buffer.from([0xe5, 0x45, 0x53, 0x46]));
  expect(frame.readUInt16LE(4)).toBe(2);
  expect(frame.readUInt16LE(6)).toBe(0);
  expect(frame.readUInt32LE(8)).toBe(0x01020304);
  expect(frame.readUInt32LE(12)).toBe(3);
  expect(frame.subarray(16, 19).toString()).toBe('abc');
  expect(frame.readUInt32LE(19)).toBe(zlib.crc32(frame.subarray(0, 19)));
  expect(frame.length).toBe(23);
});

test('the reader separates lines and frames, whatever the chunking', () => {
  const stream = Buffer.concat([
    Buffer.from('edgespec: model=m inputs=1 outputs=1\r\n'),
    encodeFrame(FrameType.Ready, 0, Buffer.from('ready')),
    Buffer.from('half a li'),
    encodeFrame(FrameType.Output, 1, Buffer.from('E\xe5SF inside', 'latin1')),
    Buffer.from('ne\n\xe5E not a frame\n', 'latin1'),
    encodeFrame(FrameType.Error, 2)
  ]);
  const expected = [
    'line:edgespec: model=m inputs=1 outputs=1',
    'frame:1/0/ready',
    'frame:3/1/E\xe5SF inside',
    'line:half a line',
    'line:\ufffdE not a frame',
    'frame:4/2/'
  ];
  for (const size of [1, 2, 3, 7, 16, stream.length]) {
    const reader = new FrameStreamReader();
    const events: StreamEvent[] = [];
    for (let i = 0; i < stream.length; i += size) events.push(...reader.push(stream.subarray(i, i + size)));
    expect(summary(events)).toEqual(expected);
  }
});

test('a damaged frame is reported and the stream goes on', () => {
  const damaged = encodeFrame(FrameType.Output, 5, Buffer.from('payload'));
  damaged[18] ^= 4;
  const reader = new FrameStreamReader();
  const events = reader.push(Buffer.concat([damaged, Buffer.from('after\n'), encodeFrame(FrameType.Output, 6, Buffer.from('x'))]));
  expect(summary(events)).toEqual(['bad:5', 'line:after', 'frame:3/6/x']);
  expect(events[0].kind === 'bad-frame' && events[0].reason).toMatch(/frame 5 \(7 bytes\) arrived with CRC 0x[0-9a-f]{8}, its bytes give 0x[0-9a-f]{8}/);

  const huge = encodeFrame(FrameType.Output, 7, Buffer.alloc(100));
  const small = new FrameStreamReader(64);
  expect(small.push(huge.subarray(0, 16))).toEqual([{ kind: 'bad-frame', reason: expect.stringMatching(/announces 100 payload bytes, more than the 64/) }]);
});

test('payload decoders', () => {
  const ready = Buffer.alloc(8 + 5);
  ready.writeUInt32LE(1234, 0);
  ready.writeUInt32LE(5, 4);
  ready.write('model', 8);
  expect(decodeReady(ready)).toEqual({ maxInputBytes: 1234, model: 'model' });
  expect(() => decodeReady(ready.subarray(0, 10))).toThrow(/5-byte name is 13 bytes, this one 10/);
  const output = Buffer.alloc(20);
  output.writeBigUInt64LE(99n, 0);
  output.writeBigUInt64LE(7n, 8);
  expect(decodeOutput(output)).toEqual({ instructions: 99n, invokeNs: 7n, outputsFile: Buffer.alloc(4) });
  const error = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('too long')]);
  expect(decodeError(error)).toEqual({ code: 2, message: 'too long' });
  expect(() => decodeOutput(Buffer.alloc(3))).toThrow(/at least 16 bytes/);
});
