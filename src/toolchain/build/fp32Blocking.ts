/**
 * The block sizes of the fp32 convolution (kernels/fp32/conv2d.c), chosen from the CPU a
 * target runs on: its vector width, L1d and L2 sizes, and the stack the kernel may use.
 * They reach the kernels as -DES_FP32_KC and -DES_FP32_PANEL.
 *
 * - KC, the reduction slice: the largest power of two (64..512) whose packed strip of
 *   weights (KC x the register tile's columns) fills at most half of L1d, so that the
 *   strip stays there while the blocks of patch rows stream past it.
 * - PANEL, the packed weights of one pass (floats): as many strips as fit in an eighth of
 *   L2 (each pixel block's patch rows are gathered once for all of them).
 * - Both shrink until the kernel's stack buffers (panel, MR patch rows, the slice's piece
 *   list) take at most a third of the target's stack: bare-metal targets have 64 KiB.
 * - SCRATCH, the floats of stack scratch of conv2d.c's x86 paths: the Winograd path's
 *   transformed weights, inputs and products (conv2d_winograd.h), or a zero-padded copy of
 *   an input with few channels: a quarter of the stack; a convolution whose scratch would not
 *   fit takes the direct path.
 * - SPLIT_512, on an AVX-512 CPU whose multiply-add units are 256 bits wide (AMD Zen 4): the
 *   GEMM and the Winograd products take AVX2's 6 x 16 tile (gemm_tile.h says what it
 *   measured); conv2d.c's direct path keeps the 8 x 32 one (6 x 16 only for groups of fewer than
 *   32 output channels), so KC and PANEL are sized for it.
 */

/** What the chooser needs to know about a CPU. */
export interface CpuCaches {
  /** The SIMD the kernels compile to: the register tile's shape follows from it. */
  vector: 'neon' | 'avx512' | 'avx2' | 'sse';
  l1dBytes: number;
  l2Bytes: number;
  /** The stack the model runs on. */
  stackBytes: number;
  /** AVX-512 whose 512-bit multiply-adds run as two 256-bit halves (AMD Zen 4). */
  splitsWideMultiplyAdd?: boolean;
}

export interface Fp32Blocks {
  /** Reduction values per slice. */
  kc: number;
  /** Floats of packed weights per pass. */
  panel: number;
  /** Floats of stack scratch for conv2d.c's x86 paths (Winograd, padded copies). */
  scratch: number;
  /** The GEMM's 6 x 16 tile on an AVX-512 CPU that splits 512-bit multiply-adds. */
  split512: boolean;
}

/**
 * The register tile of kernels/fp32/gemm_tile.h for a vector width: rows (MR) and columns
 * (ES_TILE_NV x ES_TILE_VL). gemm_tile.h is the owner; this mirrors it.
 */
export function fp32Tile(vector: CpuCaches['vector']): { rows: number; columns: number } {
  if (vector === 'neon') return { rows: 4, columns: 16 };
  if (vector === 'avx512') return { rows: 8, columns: 32 };
  return { rows: 6, columns: 16 };
}

const FLOAT = 4;
const KC_CHOICES = [512, 256, 128, 64];
/** bytes of conv2d.c's stack per reduction index of a slice: its piece (5 int32), and on x86 its segment offset and length. */
function bytesPerSliceIndex(vector: CpuCaches['vector']): number {
  return vector === 'neon' ? 20 : 28;
}

export function chooseFp32Blocks(cpu: CpuCaches): Fp32Blocks {
  const tile = fp32Tile(cpu.vector);
  const stackBudget = Math.floor(cpu.stackBytes / 3);
  const stripBytes = (kc: number) => kc * tile.columns * FLOAT;
  const buffersBesidesPanel = (kc: number) => kc * tile.rows * FLOAT + kc * bytesPerSliceIndex(cpu.vector);
  const fits = (kc: number) => stripBytes(kc) <= cpu.l1dBytes / 2 && stripBytes(kc) + buffersBesidesPanel(kc) <= stackBudget;
  const kc = KC_CHOICES.find(fits) ?? KC_CHOICES[KC_CHOICES.length - 1];
  const byCache = Math.floor(cpu.l2Bytes / 8 / stripBytes(kc));
  const byStack = Math.floor((stackBudget - buffersBesidesPanel(kc)) / stripBytes(kc));
  const strips = Math.max(1, Math.min(byCache, byStack));
  return {
    kc, panel: (strips * stripBytes(kc)) / FLOAT, scratch: Math.floor(cpu.stackBytes / 4 / FLOAT),
    split512: cpu.vector === 'avx512' && cpu.splitsWideMultiplyAdd === true
  };
}

/** The compile flags that pass the blocks to the kernels. */
export function fp32BlockFlags(blocks: Fp32Blocks): string[] {
  return [`-DES_FP32_KC=${blocks.kc}`, `-DES_FP32_PANEL=${blocks.panel}`, `-DES_FP32_SCRATCH=${blocks.scratch}`, ...(blocks.split512 ? ['-DES_FP32_SPLIT_512'] : [])];
}

/** One line for build.log and the bench's header. */
export function describeFp32Blocks(cpu: CpuCaches, blocks: Fp32Blocks, source: string): string {
  const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
  return `fp32 conv blocks: reduction slice ${blocks.kc}, ${kib(blocks.panel * FLOAT)} of packed weights per pass` +
    `${blocks.split512 ? ', the GEMM in 6 x 16 tiles (512-bit multiply-adds split in two)' : ''} ` +
    `(${cpu.vector}, L1d ${kib(cpu.l1dBytes)}, L2 ${kib(cpu.l2Bytes)}, stack ${kib(cpu.stackBytes)}; ${source})`;
}
