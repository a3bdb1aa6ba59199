// The fp32 convolution's block sizes, chosen from a CPU's caches, vector width and stack
// (issue 15: the x86 tuning of one machine did not carry to another).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { chooseFp32Blocks, CpuCaches, fp32BlockFlags, fp32Tile } from '../../../src/toolchain/build/fp32Blocking';
import { parseCacheSize, parseCpuinfo, readCacheSizes } from '../../../src/toolchain/build/hostCpu';
import { loadTarget } from '../../../src/toolchain/build/targets';

const KIB = 1024;
const MIB = 1024 * 1024;
const cpu = (vector: CpuCaches['vector'], l1d: number, l2: number, stack: number): CpuCaches => ({ vector, l1dBytes: l1d, l2Bytes: l2, stackBytes: stack });

describe('chooseFp32Blocks', () => {
  it('AVX2 with 32 KiB L1d and 512 KiB L2 (the AMD EPYC of docs/benchmark.md): slices of 256, four 16-column strips per pass', () => {
    expect(chooseFp32Blocks(cpu('avx2', 32 * KIB, 512 * KIB, 8 * MIB))).toEqual({ kc: 256, panel: 16384, scratch: 524288, split512: false });
  });

  it('AVX-512 with 32 KiB L1d and 1 MiB L2: a 32-column strip of 256 would fill L1d, so slices of 128, and eight strips per pass', () => {
    expect(chooseFp32Blocks(cpu('avx512', 32 * KIB, 1 * MIB, 8 * MIB))).toEqual({ kc: 128, panel: 8 * 128 * 32, scratch: 524288, split512: false });
  });

  it('a larger L1d takes longer slices: AVX2 with 64 KiB L1d', () => {
    expect(chooseFp32Blocks(cpu('avx2', 64 * KIB, 512 * KIB, 8 * MIB)).kc).toBe(512);
  });

  it('Cortex-A53 bare metal (rpi3, 64 KiB stack): the stack, not the caches, keeps slices at 128 and the panel at 16 KiB', () => {
    expect(chooseFp32Blocks(cpu('neon', 32 * KIB, 512 * KIB, 64 * KIB))).toEqual({ kc: 128, panel: 4096, scratch: 4096, split512: false });
  });

  it('the same core under Linux (8 MiB stack) takes what its caches allow', () => {
    expect(chooseFp32Blocks(cpu('neon', 32 * KIB, 512 * KIB, 8 * MIB))).toEqual({ kc: 256, panel: 16384, scratch: 524288, split512: false });
  });

  it('a tiny stack still gets one strip of the smallest slice', () => {
    const blocks = chooseFp32Blocks(cpu('neon', 32 * KIB, 512 * KIB, 8 * KIB));
    expect(blocks).toEqual({ kc: 64, panel: 64 * 16, scratch: 512, split512: false });
  });

  it('always satisfies conv2d.c: kc a multiple of 8, the panel whole strips of the tile, within a third of the stack where that is possible; the x86 scratch within a quarter', () => {
    for (const vector of ['neon', 'sse', 'avx2', 'avx512'] as const)
      for (const l1d of [16, 32, 48, 64, 128].map(k => k * KIB))
        for (const l2 of [256 * KIB, 512 * KIB, 1280 * KIB, 2 * MIB])
          for (const stack of [64 * KIB, 128 * KIB, 8 * MIB]) {
            const { kc, panel, scratch } = chooseFp32Blocks(cpu(vector, l1d, l2, stack));
            const columns = fp32Tile(vector).columns;
            expect(kc % 8).toBe(0);
            expect(panel % (kc * columns)).toBe(0);
            expect(panel).toBeGreaterThanOrEqual(kc * columns);
            expect(kc * columns * 4).toBeLessThanOrEqual(Math.max(l1d / 2, 64 * columns * 4));
            expect(panel * 4).toBeLessThanOrEqual(stack / 3);
            expect(scratch * 4).toBeLessThanOrEqual(stack / 4);
          }
  });

  it('AVX-512 that splits its multiply-adds in two (AMD Zen 4): the same blocks for conv2d.c\'s 8 x 32 tile, and the GEMM told to take 6 x 16', () => {
    const zen4 = { ...cpu('avx512', 32 * KIB, 1 * MIB, 8 * MIB), splitsWideMultiplyAdd: true };
    expect(chooseFp32Blocks(zen4)).toEqual({ kc: 128, panel: 8 * 128 * 32, scratch: 524288, split512: true });
    expect(chooseFp32Blocks({ ...cpu('avx2', 32 * KIB, 1 * MIB, 8 * MIB), splitsWideMultiplyAdd: true }).split512).toBe(false);
  });

  it('passes the blocks as the defines conv2d.c, gemm.c and gemm_tile.h read', () => {
    expect(fp32BlockFlags({ kc: 128, panel: 4096, scratch: 4096, split512: false })).toEqual(['-DES_FP32_KC=128', '-DES_FP32_PANEL=4096', '-DES_FP32_SCRATCH=4096']);
    expect(fp32BlockFlags({ kc: 128, panel: 32768, scratch: 524288, split512: true })).toEqual(['-DES_FP32_KC=128', '-DES_FP32_PANEL=32768', '-DES_FP32_SCRATCH=524288', '-DES_FP32_SPLIT_512']);
  });
});

describe('what the build machine reports', () => {
  it('reads cache sizes as sysfs writes them', () => {
    expect(parseCacheSize('32K\n')).toBe(32 * KIB);
    expect(parseCacheSize('1024K')).toBe(MIB);
    expect(parseCacheSize('1M')).toBe(MIB);
    expect(parseCacheSize('49152')).toBe(49152);
    expect(parseCacheSize('big')).toBeUndefined();
  });

  it('finds L1d and L2 among the cache directories, not L1i or L3', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgespec-caches-'));
    try {
      const caches: [string, string, string][] = [['1', 'Data', '48K'], ['1', 'Instruction', '32K'], ['2', 'Unified', '1280K'], ['3', 'Unified', '49152K']];
      caches.forEach(([level, type, size], i) => {
        mkdirSync(path.join(dir, `index${i}`));
        writeFileSync(path.join(dir, `index${i}`, 'level'), `${level}\n`);
        writeFileSync(path.join(dir, `index${i}`, 'type'), `${type}\n`);
        writeFileSync(path.join(dir, `index${i}`, 'size'), `${size}\n`);
      });
      expect(readCacheSizes(dir)).toEqual({ l1dBytes: 48 * KIB, l2Bytes: 1280 * KIB });
      expect(readCacheSizes(path.join(dir, 'absent'))).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the widest vector the flags name, and the model name', () => {
    const intel = 'model name\t: Intel(R) Xeon(R) CPU @ 2.80GHz\nflags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512vnni\n';
    expect(parseCpuinfo(intel, 'x64')).toEqual({ model: 'Intel(R) Xeon(R) CPU @ 2.80GHz', vector: 'avx512', splitsWideMultiplyAdd: false });
    expect(parseCpuinfo('model name\t: AMD EPYC\nflags\t\t: sse2 avx avx2 fma\n', 'x64').vector).toBe('avx2');
    expect(parseCpuinfo('flags\t\t: sse2\n', 'x64').vector).toBe('sse');
    expect(parseCpuinfo('processor\t: 0\nFeatures\t: fp asimd\n', 'arm64').vector).toBe('neon');
  });

  it('knows AMD family 19h with AVX-512 (Zen 4) splits 512-bit multiply-adds; Zen 3 has no AVX-512, Intel and Zen 5 do not split', () => {
    const amd = (family: number, flags: string) => `vendor_id\t: AuthenticAMD\ncpu family\t: ${family}\nmodel\t\t: 17\nmodel name\t: AMD EPYC\nflags\t\t: ${flags}\n`;
    expect(parseCpuinfo(amd(25, 'avx2 fma avx512f avx512vnni'), 'x64')).toEqual({ model: 'AMD EPYC', vector: 'avx512', splitsWideMultiplyAdd: true });
    expect(parseCpuinfo(amd(25, 'avx2 fma'), 'x64').splitsWideMultiplyAdd).toBe(false);
    expect(parseCpuinfo(amd(26, 'avx2 fma avx512f'), 'x64').splitsWideMultiplyAdd).toBe(false);
    expect(parseCpuinfo(`vendor_id\t: GenuineIntel\ncpu family\t: 6\nflags\t\t: avx2 avx512f\n`, 'x64').splitsWideMultiplyAdd).toBe(false);
  });
});

describe('targets', () => {
  it('each target says its CPU once, in its build.json, and its compile flags carry the blocks chosen from it', () => {
    const rpi3 = loadTarget('rpi3');
    expect(rpi3.cpu.caches).toEqual({ vector: 'neon', l1dBytes: 32 * KIB, l2Bytes: 512 * KIB, stackBytes: 64 * KIB });
    expect(rpi3.cflags).toEqual(expect.arrayContaining(['-DES_FP32_KC=128', '-DES_FP32_PANEL=4096']));
    const host = loadTarget('host');
    expect(host.cflags).toEqual(expect.arrayContaining(fp32BlockFlags(host.cpu.fp32Blocks)));
    expect(host.cpu.note).toMatch(/read from \/proc\/cpuinfo/);
  });
});
