import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { CpuCaches } from './fp32Blocking';

/** What the build machine's CPU reports, for the host target's block sizes. */
export interface HostCpu {
  model: string;
  caches: CpuCaches;
  /** Where each fact came from, or which were assumed. */
  source: string;
}

const CACHE_DIR = '/sys/devices/system/cpu/cpu0/cache';
/** Assumed when the machine does not say (no sysfs, another OS). */
const DEFAULT_L1D = 32 * 1024;
const DEFAULT_L2 = 512 * 1024;

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** "32K", "1024K", "1M", "49152" → bytes. */
export function parseCacheSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * scale;
}

/** L1d and L2 of cpu0 from sysfs (each indexN directory: level, type, size). */
export function readCacheSizes(dir = CACHE_DIR): { l1dBytes?: number; l2Bytes?: number } {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter(e => /^index\d+$/.test(e));
  } catch {
    return {};
  }
  const out: { l1dBytes?: number; l2Bytes?: number } = {};
  for (const e of entries) {
    const level = readText(path.join(dir, e, 'level'))?.trim();
    const type = readText(path.join(dir, e, 'type'))?.trim();
    const size = parseCacheSize(readText(path.join(dir, e, 'size')) ?? '');
    if (size === undefined) continue;
    if (level === '1' && type === 'Data') out.l1dBytes = size;
    if (level === '2' && (type === 'Unified' || type === 'Data')) out.l2Bytes = size;
  }
  return out;
}

/** AMD family 19h (Zen 3 and Zen 4; of those only Zen 4 has AVX-512) runs a 512-bit multiply-add as two 256-bit halves. */
const SPLIT_512_FAMILIES: { vendor: string; family: number }[] = [{ vendor: 'AuthenticAMD', family: 0x19 }];

/**
 * The vector width from /proc/cpuinfo's flags (x86) or features (AArch64), the model name, and
 * whether its AVX-512 multiply-adds are split in two (from the vendor and family).
 */
export function parseCpuinfo(text: string, arch: string): { model: string; vector: CpuCaches['vector']; splitsWideMultiplyAdd: boolean } {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1].trim();
  const model = field('model name') ?? field('Model') ?? field('CPU part') ?? 'unknown CPU';
  if (arch === 'arm64') return { model, vector: 'neon', splitsWideMultiplyAdd: false };
  const flags = new Set((field('flags') ?? '').split(/\s+/));
  const vector = flags.has('avx512f') ? 'avx512' : flags.has('avx2') ? 'avx2' : 'sse';
  const vendor = field('vendor_id') ?? '';
  const family = Number(field('cpu family') ?? NaN);
  const splitsWideMultiplyAdd = vector === 'avx512' && SPLIT_512_FAMILIES.some(f => f.vendor === vendor && f.family === family);
  return { model, vector, splitsWideMultiplyAdd };
}

let cached: HostCpu | undefined;

/** The build machine's CPU, read once per process. */
export function readHostCpu(stackBytes: number): HostCpu {
  if (cached && cached.caches.stackBytes === stackBytes) return cached;
  const { model, vector, splitsWideMultiplyAdd } = parseCpuinfo(readText('/proc/cpuinfo') ?? '', process.arch);
  const sizes = readCacheSizes();
  const assumed = [sizes.l1dBytes === undefined ? 'L1d' : '', sizes.l2Bytes === undefined ? 'L2' : ''].filter(Boolean);
  cached = {
    model,
    caches: { vector, l1dBytes: sizes.l1dBytes ?? DEFAULT_L1D, l2Bytes: sizes.l2Bytes ?? DEFAULT_L2, stackBytes, ...(splitsWideMultiplyAdd ? { splitsWideMultiplyAdd } : {}) },
    source: `${model}, read from /proc/cpuinfo and ${CACHE_DIR}${assumed.length ? `; ${assumed.join(' and ')} not reported, assumed` : ''}`
  };
  return cached;
}
