/** Number formatting shared by the views and the static fallbacks. Pure, no DOM. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Binary units, three significant digits: 1536 → "1.50 KiB", 999 → "999 B". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) {
    return '—';
  }
  const sign = bytes < 0 ? '−' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) {
    return `${sign}${value} B`;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** A signed byte delta: "+1.20 KiB", "−512 B", "±0 B". */
export function formatByteDelta(delta: number): string {
  if (delta === 0) {
    return '±0 B';
  }
  return delta > 0 ? `+${formatBytes(delta)}` : formatBytes(delta);
}

/** Exact bytes with thousands separators: 1234567 → "1,234,567". */
export function formatExactBytes(bytes: number): string {
  return `${formatInteger(bytes)} B`;
}

export function formatInteger(value: number): string {
  const sign = value < 0 ? '−' : '';
  const digits = Math.round(Math.abs(value)).toString();
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Share of a whole as a percentage; small shares keep a significant digit. */
export function formatShare(part: number, whole: number): string {
  if (!(whole > 0)) {
    return '—';
  }
  const percent = (100 * part) / whole;
  if (percent === 0) {
    return '0 %';
  }
  if (Math.abs(percent) < 0.1) {
    return '<0.1 %';
  }
  return `${percent.toFixed(Math.abs(percent) < 10 ? 1 : 0)} %`;
}

/** "1.50 KiB (12 %)". */
export function formatBytesWithShare(bytes: number, whole: number): string {
  return `${formatBytes(bytes)} (${formatShare(bytes, whole)})`;
}

/** [1, 3, 224, 224] → "1×3×224×224"; a scalar → "scalar". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

/** Large counts in engineering style: 1234567890 → "1.23 G". */
export function formatCount(value: number): string {
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k']
  ];
  for (const [scale, suffix] of steps) {
    if (Math.abs(value) >= scale) {
      const scaled = value / scale;
      const digits = Math.abs(scaled) >= 100 ? 0 : Math.abs(scaled) >= 10 ? 1 : 2;
      return `${scaled.toFixed(digits)} ${suffix}`;
    }
  }
  return String(value);
}

/** Milliseconds: 850 → "850 ms", 2345 → "2.35 s", 0.42 → "0.42 ms". */
export function formatMilliseconds(ms: number): string {
  if (!Number.isFinite(ms)) {
    return '—';
  }
  if (ms >= 1000) {
    return `${(ms / 1000).toFixed(ms >= 10000 ? 1 : 2)} s`;
  }
  if (ms >= 10) {
    return `${Math.round(ms)} ms`;
  }
  return `${ms.toFixed(2)} ms`;
}

/** A float for error columns: 3 significant digits, exponent for tiny/huge values. */
export function formatFloat(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (value === 0) {
    return '0';
  }
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e5) {
    return value.toExponential(2);
  }
  return Number(value.toPrecision(4)).toString();
}

/** Escape text for inclusion in HTML or SVG markup. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
