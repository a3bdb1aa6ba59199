/**
 * The image against a generic deployment stack (framework + Python + OS), on a log scale
 * because the two differ by orders of magnitude. Pure, no DOM.
 */
import type { Footprint } from '../types';

export interface StackBar {
  name: string;
  bytes: number;
  how: string;
  /** The edgespec image itself (drawn first, highlighted). */
  isImage: boolean;
  /** The stack's sum over the reference components (not a measured item of its own). */
  isSum: boolean;
  /** Position of the bar's end on the log axis, 0..1. */
  fraction: number;
  /** bytes / image bytes. */
  timesImage: number;
}

export interface StackComparison {
  bars: StackBar[];
  /** Axis ticks at powers of 1024 (1 KiB, 1 MiB, 1 GiB…), with their position 0..1. */
  ticks: { bytes: number; fraction: number }[];
  /** How many times smaller the image is than the whole reference stack; null without one. */
  timesSmaller: number | null;
}

export function compareWithReferenceStack(footprint: Footprint): StackComparison | null {
  const stack = (footprint.reference_stack ?? []).filter(item => item.bytes > 0);
  const image = deployedBytes(footprint);
  if (stack.length === 0 || !(image.value > 0)) {
    return null;
  }
  const stackSum = stack.reduce((sum, item) => sum + item.bytes, 0);
  const entries: Omit<StackBar, 'fraction' | 'timesImage'>[] = [
    { name: image.name, bytes: image.value, how: image.how, isImage: true, isSum: false },
    ...stack.map(item => ({ name: item.name, bytes: item.bytes, how: item.how, isImage: false, isSum: false }))
  ];
  if (stack.length > 1) {
    entries.push({
      name: 'generic stack, all components',
      bytes: stackSum,
      how: 'sum of the components above',
      isImage: false,
      isSum: true
    });
  }
  const all = entries.map(entry => entry.bytes);
  const low = Math.pow(1024, Math.floor(Math.log(Math.min(...all)) / Math.log(1024)));
  const high = Math.pow(1024, Math.ceil(Math.log(Math.max(...all)) / Math.log(1024) + 1e-9));
  const position = (bytes: number): number =>
    high > low ? (Math.log(bytes) - Math.log(low)) / (Math.log(high) - Math.log(low)) : 1;
  const ticks: StackComparison['ticks'] = [];
  for (let bytes = low; bytes <= high * 1.0001; bytes *= 1024) {
    ticks.push({ bytes, fraction: position(bytes) });
  }
  return {
    bars: entries.map(entry => ({
      ...entry,
      fraction: Math.max(0.005, position(entry.bytes)),
      timesImage: entry.bytes / image.value
    })),
    ticks,
    timesSmaller: stackSum / image.value
  };
}

/**
 * What the edgespec side of the comparison is: the image, or for linux-vm what boots (kernel +
 * initramfs, the model's executable inside), since the stack it is compared with includes an OS.
 */
export function deployedBytes(footprint: Footprint): { name: string; value: number; how: string } {
  const vm = footprint.linux_vm;
  if (vm) return { name: `edgespec linux-vm (${footprint.model}): ${vm.kernel.kind} kernel + initramfs`, value: vm.total_bytes, how: vm.how };
  return { name: `edgespec image (${footprint.model})`, value: footprint.totals.image_bytes.value, how: footprint.totals.image_bytes.how };
}

/** "1 400×" / "3.2×" for the ratio column. */
export function formatTimes(times: number): string {
  if (times >= 100) {
    return `${Math.round(times).toLocaleString('en-US')}×`;
  }
  return `${times.toFixed(times >= 10 ? 0 : 1)}×`;
}
