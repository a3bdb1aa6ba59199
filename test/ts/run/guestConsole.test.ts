import { numberField, parseGuestConsole } from '../../../src/toolchain/run/guestConsole';
import { decodeIoFile, encodeIoFile, IO_KIND_INPUTS, IO_KIND_OUTPUTS } from '../../../src/toolchain/guest/ioFile';

describe('parseGuestConsole', () => {
  it('reads the key=value lines of a good run', () => {
    const parsed = parseGuestConsole(
      [
        'edgespec: model=toy inputs=1 outputs=1',
        'edgespec: invoke_instructions=16',
        'edgespec: output_file=output.bin bytes=128',
        'edgespec: run_instructions=540384',
        'edgespec: status=ok',
        ''
      ].join('\n')
    );
    expect(parsed.fields).toMatchObject({ model: 'toy', inputs: '1', invoke_instructions: '16', status: 'ok' });
    expect(numberField(parsed, 'invoke_instructions')).toBe(16);
    expect(numberField(parsed, 'model')).toBeUndefined();
    expect(parsed.fault).toBeUndefined();
    expect(parsed.errors).toEqual([]);
  });

  it('reads a qemu-virt data abort: class, faulting address, symbol and ESR', () => {
    const parsed = parseGuestConsole(
      [
        'edgespec: model=toy inputs=1 outputs=1',
        'edgespec: fault: synchronous exception: data abort (same EL), translation fault level 1, read',
        'edgespec: fault: ec=0x25 esr=0x96000005 far=0x100000000 elr=0x40000abc symbol=es_model_invoke+0x1c',
        'edgespec: status=failed exit=3'
      ].join('\n')
    );
    expect(parsed.fault).toEqual({
      exception_class: 'synchronous exception: data abort (same EL), translation fault level 1, read (EC 0x25)',
      address: '0x100000000',
      symbol: 'es_model_invoke+0x1c (pc 0x40000abc)',
      esr: '0x96000005'
    });
    expect(parsed.fields).toMatchObject({ status: 'failed', exit: '3' });
  });

  it('takes the PC as the address of an exception without a fault address', () => {
    const parsed = parseGuestConsole(
      'edgespec: fault: synchronous exception: unknown reason (undefined instruction)\n' +
        'edgespec: fault: ec=0x0 esr=0x2000000 far=0x0 elr=0x40001000 symbol=?\n'
    );
    expect(parsed.fault?.address).toBe('0x40001000');
  });

  it('reads a host fatal signal', () => {
    const parsed = parseGuestConsole('edgespec: fault: signal SIGSEGV address=0x8\nedgespec: status=failed exit=3\n');
    expect(parsed.fault).toMatchObject({ exception_class: 'signal SIGSEGV', address: '0x8' });
  });

  it('collects error lines and ignores other output', () => {
    const parsed = parseGuestConsole('booting\nedgespec: error: input at __es_input_base: no edgespec header\nedgespec: status=failed exit=2\n');
    expect(parsed.errors).toEqual(['input at __es_input_base: no edgespec header']);
    expect(parsed.fault).toBeUndefined();
  });
});

describe('the I/O file format', () => {
  it('aligns every tensor to 64 bytes and reads back what it wrote', () => {
    const a = Buffer.from([1, 2, 3, 4]);
    const b = Buffer.alloc(100, 9);
    const file = encodeIoFile(IO_KIND_INPUTS, [a, b]);
    expect(file.subarray(0, 8).toString()).toBe('EDGESPEC');
    expect(file.length).toBe(64 + 64 + 128);
    expect(file.subarray(64, 68)).toEqual(a);
    expect(file.subarray(128, 228)).toEqual(b);
    const [x, y] = decodeIoFile(file, IO_KIND_INPUTS, [4, 100]);
    expect(x).toEqual(a);
    expect(y).toEqual(b);
  });

  it('names the mismatch of a wrong file', () => {
    const file = encodeIoFile(IO_KIND_OUTPUTS, [Buffer.alloc(16)]);
    expect(() => decodeIoFile(file, IO_KIND_INPUTS, [16])).toThrow('the file holds outputs, expected inputs');
    expect(() => decodeIoFile(file, IO_KIND_OUTPUTS, [32])).toThrow("tensor 0 is 16 bytes, the model's is 32");
    expect(() => decodeIoFile(file.subarray(0, 70), IO_KIND_OUTPUTS, [16])).toThrow('its header says 128');
    expect(() => decodeIoFile(Buffer.from('hello world, this is no header'), IO_KIND_OUTPUTS, [16])).toThrow('magic');
  });
});
