import { compareWithReferenceStack, formatTimes } from '../../../src/common/report/referenceStack';
import { sampleFootprint } from './fixtures';

describe('compareWithReferenceStack', () => {
  it('puts the image first, then each component with its how, then their sum', () => {
    const comparison = compareWithReferenceStack(sampleFootprint())!;
    expect(comparison.bars.map(bar => bar.name)).toEqual([
      'edgespec image (tiny_cnn)',
      'PyTorch wheel',
      'Python 3.13',
      'generic stack, all components'
    ]);
    expect(comparison.bars[0]).toMatchObject({ isImage: true, bytes: 10000, how: 'st_size of image.elf', timesImage: 1 });
    expect(comparison.bars[1].how).toBe('du -sb site-packages/torch');
    expect(comparison.bars[3]).toMatchObject({ isSum: true, bytes: 860 * 1024 * 1024 });
    expect(comparison.timesSmaller).toBeCloseTo((860 * 1024 * 1024) / 10000);
  });

  it('places bars on a log axis bounded by powers of 1024', () => {
    const comparison = compareWithReferenceStack(sampleFootprint())!;
    expect(comparison.ticks.map(tick => tick.bytes)).toEqual([1024, 1024 ** 2, 1024 ** 3]);
    expect(comparison.ticks[0].fraction).toBe(0);
    expect(comparison.ticks[2].fraction).toBe(1);
    const fractions = comparison.bars.map(bar => bar.fraction);
    expect(fractions[0]).toBeGreaterThan(0);
    expect(fractions[0]).toBeLessThan(0.5);
    expect(fractions[1]).toBeGreaterThan(fractions[2]);
    expect(Math.max(...fractions)).toBeLessThanOrEqual(1);
  });

  it('returns null without a reference stack', () => {
    expect(compareWithReferenceStack(sampleFootprint({ reference_stack: [] }))).toBeNull();
    expect(compareWithReferenceStack(sampleFootprint({ reference_stack: undefined }))).toBeNull();
  });

  it('formats ratios', () => {
    expect(formatTimes(90177.3)).toBe('90,177×');
    expect(formatTimes(12.4)).toBe('12×');
    expect(formatTimes(1)).toBe('1.0×');
  });
});
