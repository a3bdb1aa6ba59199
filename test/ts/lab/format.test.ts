import {
  escapeXml,
  formatByteDelta,
  formatBytes,
  formatCount,
  formatExactBytes,
  formatFloat,
  formatMilliseconds,
  formatShape,
  formatShare
} from '../../../src/common/report/format';

describe('format', () => {
  it('formats bytes in binary units with three significant digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(14.2 * 1024 * 1024)).toBe('14.2 MiB');
    expect(formatBytes(900 * 1024 * 1024)).toBe('900 MiB');
    expect(formatBytes(-2048)).toBe('−2.00 KiB');
    expect(formatByteDelta(300)).toBe('+300 B');
    expect(formatByteDelta(-300)).toBe('−300 B');
    expect(formatByteDelta(0)).toBe('±0 B');
    expect(formatExactBytes(1234567)).toBe('1,234,567 B');
  });

  it('formats shares, keeping small ones visible', () => {
    expect(formatShare(1, 4)).toBe('25 %');
    expect(formatShare(1, 40)).toBe('2.5 %');
    expect(formatShare(1, 100000)).toBe('<0.1 %');
    expect(formatShare(0, 10)).toBe('0 %');
    expect(formatShare(1, 0)).toBe('—');
  });

  it('formats shapes, counts, durations and floats', () => {
    expect(formatShape([1, 3, 224, 224])).toBe('1×3×224×224');
    expect(formatShape([])).toBe('scalar');
    expect(formatCount(1234567890)).toBe('1.23 G');
    expect(formatCount(950)).toBe('950');
    expect(formatMilliseconds(2345)).toBe('2.35 s');
    expect(formatMilliseconds(0.42)).toBe('0.42 ms');
    expect(formatFloat(2.4e-7)).toBe('2.40e-7');
    expect(formatFloat(0.123456)).toBe('0.1235');
    expect(formatFloat(0)).toBe('0');
  });

  it('escapes markup', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
