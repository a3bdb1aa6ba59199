import type { DivergenceLayer, DivergenceReport } from '../../../src/common/types';
import {
  describeError,
  divergenceVerdict,
  errorPlot,
  firstDivergentPosition,
  layerDetail,
  layerError,
  layerRows
} from '../../../src/lab/model/divergence';
import { InvalidReportError, parseDivergenceReport } from '../../../src/lab/model/validate';

function layer(index: number, fields: Partial<DivergenceLayer> = {}): DivergenceLayer {
  return {
    index,
    step: index + 1,
    tensor: `t${index}`,
    graph_tensor: `g${index}`,
    op: 'conv2d',
    kernel: 'es_conv2d_f32',
    node: `conv_${index}`,
    attrs: { stride: [1, 1], padding: [1, 1, 1, 1] },
    framework_ops: ['aten.convolution.default'],
    module: `features.${index}`,
    shape: [1, 8, 4, 4],
    dtype: 'float32',
    compared: true,
    max_abs_error: 1e-6,
    max_rel_error: 1e-6,
    cosine: 1,
    max_abs_reference: 1,
    tolerance: 1e-4,
    tolerance_unit: 'relative',
    within_tolerance: true,
    ...fields
  };
}

function report(layers: DivergenceLayer[], fields: Partial<DivergenceReport> = {}): DivergenceReport {
  return {
    format: 'edgespec.divergence',
    version: 1,
    model: 'tiny',
    target: 'qemu-virt',
    dtype: 'float32',
    build: 'build/qemu-virt',
    debug_build: 'build/qemu-virt-debug',
    framework: 'pytorch',
    status: 'agrees',
    first_divergent: null,
    how: 'debug image on the reference input',
    layers,
    run: { wall_ms: { value: 10, how: 'clock' }, console: '' },
    ...fields
  };
}

describe('the layer table', () => {
  it('has one row per layer with its numbers, and a skipped row says why', () => {
    const rows = layerRows(
      report([
        layer(0, { max_abs_error: 2.5e-7, max_rel_error: 1.25e-7, cosine: 0.99999994 }),
        layer(1, { compared: false, why: 'no framework value (fused away)', max_abs_error: undefined, max_rel_error: undefined, cosine: undefined, within_tolerance: undefined })
      ])
    );
    expect(rows.map(row => [row.index, row.module, row.op, row.shape, row.maxAbs, row.relative, row.cosine, row.quantSteps, row.within])).toEqual([
      [0, 'features.0', 'conv2d', '1×8×4×4', '2.50e-7', '1.25e-7', '1 − 6.00e-8', '', true],
      [1, 'features.1', 'conv2d', '1×8×4×4', '—', '—', '—', '', null]
    ]);
    expect(layerRows(report([layer(0, { cosine: 1 }), layer(1, { cosine: 0.5 })])).map(row => row.cosine)).toEqual(['1', '0.5000']);
    expect(rows[1].why).toBe('no framework value (fused away)');
    expect(rows.map(row => row.first)).toEqual([false, false]);
  });

  it('marks the layer first_divergent names, not merely the first over its tolerance', () => {
    const layers = [layer(0), layer(1, { within_tolerance: false, max_rel_error: 0.3 }), layer(2, { within_tolerance: false, max_rel_error: 0.5 })];
    const named = report(layers, { status: 'diverges', first_divergent: 2 });
    expect(firstDivergentPosition(named)).toBe(2);
    expect(layerRows(named).map(row => row.first)).toEqual([false, false, true]);
  });

  it('finds the first layer over its tolerance when the report names none or a position out of range', () => {
    const layers = [layer(0), layer(1, { compared: false, within_tolerance: false }), layer(2, { within_tolerance: false }), layer(3, { within_tolerance: false })];
    expect(firstDivergentPosition(report(layers, { status: 'diverges', first_divergent: null }))).toBe(2);
    expect(firstDivergentPosition(report(layers, { status: 'diverges', first_divergent: 9 }))).toBe(2);
    expect(firstDivergentPosition(report([layer(0), layer(1)]))).toBeNull();
  });

  it('shows int8 errors in quantization steps', () => {
    const int8 = layer(0, { dtype: 'int8', quant_steps: 3, tolerance: 1, tolerance_unit: 'quant_steps', within_tolerance: false });
    const [row] = layerRows(report([int8], { dtype: 'int8', status: 'diverges', first_divergent: 0 }));
    expect([row.quantSteps, row.within, row.first]).toEqual(['3', false, true]);
    expect(layerError(int8)).toEqual({ unit: 'quant_steps', value: 3, tolerance: 1 });
    expect(describeError(int8)).toBe('3 quantization steps > tolerance 1');
    expect(describeError(layer(1))).toBe('relative error 1.00e-6 ≤ tolerance 1.00e-4');
  });
});

describe('the verdict', () => {
  it('names the first divergent layer with its module and source', () => {
    const bad = layer(1, { op: 'add', module: 'features.3', source: 'model.py:42', within_tolerance: false, max_rel_error: 0.02 });
    const verdict = divergenceVerdict(report([layer(0), bad], { status: 'diverges', first_divergent: 1 }));
    expect(verdict).toEqual({
      tone: 'bad',
      title: 'Layer #1 diverges first: add in features.3',
      detail: '2 of 2 layers compared with pytorch; relative error 0.02 > tolerance 1.00e-4; source model.py:42'
    });
  });

  it('is quiet when every compared layer is within tolerance, and counts the skipped ones', () => {
    const verdict = divergenceVerdict(report([layer(0), layer(1, { compared: false, why: 'x' })]));
    expect(verdict).toEqual({
      tone: 'good',
      title: 'Every compared layer is within its tolerance',
      detail: '1 of 2 layers compared with pytorch (1 without a framework value)'
    });
  });
});

describe('the error plot', () => {
  it('plots compared layers against depth with one tolerance line, zero errors at the floor', () => {
    const plot = errorPlot(
      report([layer(0, { max_rel_error: 0 }), layer(1, { max_rel_error: 1e-6 }), layer(2, { compared: false }), layer(3, { max_rel_error: 1e-3, within_tolerance: false })], {
        status: 'diverges',
        first_divergent: 3
      })
    );
    expect(plot.unit).toBe('relative');
    expect(plot.tolerance).toBe(1e-4);
    expect(plot.points.map(point => point.index)).toEqual([0, 1, 3]);
    expect(plot.domain[0]).toBeCloseTo(1e-7);
    expect(plot.domain[1]).toBeCloseTo(2e-3);
    expect(plot.points[0].value).toBeCloseTo(1e-7);
    expect(plot.points[0].error).toBe(0);
    expect(plot.points.map(point => point.first)).toEqual([false, false, true]);
    expect(plot.depth).toEqual([0, 3]);
  });

  it('has no single tolerance line when layers are held to different bars', () => {
    const plot = errorPlot(report([layer(0, { tolerance: 1e-4 }), layer(1, { tolerance: 1e-3 })]));
    expect(plot.tolerance).toBeNull();
    expect(plot.points.map(point => point.tolerance)).toEqual([1e-4, 1e-3]);
  });

  it('plots an int8 image judged against the float framework in relative error, its steps kept for the table', () => {
    const relative = { dtype: 'int8' as const, tolerance: 0.15, tolerance_unit: 'relative' as const };
    const plot = errorPlot(
      report([layer(0, { ...relative, max_rel_error: 0.01, quant_steps: 3 }), layer(1, { ...relative, max_rel_error: 0.02, quant_steps: 4 })], { dtype: 'int8' })
    );
    expect(plot.unit).toBe('relative');
    expect(plot.points.map(point => point.value)).toEqual([0.01, 0.02]);
    expect(plot.tolerance).toBe(0.15);
  });

  it('plots an int8 report judged in quantization steps in steps', () => {
    const plot = errorPlot(
      report([layer(0, { dtype: 'int8', quant_steps: 0.5, tolerance: 1, tolerance_unit: 'quant_steps' }), layer(1, { dtype: 'int8', quant_steps: 6, tolerance: 1, tolerance_unit: 'quant_steps', within_tolerance: false })], {
        dtype: 'int8'
      })
    );
    expect(plot.unit).toBe('quant_steps');
    expect(plot.points.map(point => point.value)).toEqual([0.5, 6]);
    expect(plot.tolerance).toBe(1);
  });
});

describe('the layer detail', () => {
  it('shows op, attributes, shapes, framework ops, module, source and the values side by side', () => {
    const detail = layerDetail(
      layer(2, {
        source: 'cell 3, line 7',
        graph_tensor: 'conv_out',
        values: [
          { index: 0, image: 1, framework: 1 },
          { index: 57, image: 0.5, framework: 0.25 },
          { index: 58, image: 0.17294870316, framework: 0.17294873297 }
        ]
      })
    );
    expect(Object.fromEntries(detail.facts)).toMatchObject({
      op: 'conv2d (kernel es_conv2d_f32)',
      module: 'features.2',
      source: 'cell 3, line 7',
      'framework ops': 'aten.convolution.default',
      output: 't2 (graph tensor conv_out)',
      shape: '1×8×4×4 float32'
    });
    expect(detail.attributes).toEqual([
      ['stride', '[1,1]'],
      ['padding', '[1,1,1,1]']
    ]);
    expect(detail.values).toEqual([
      { index: 0, image: '1', framework: '1', difference: '0', largest: false },
      { index: 57, image: '0.5', framework: '0.25', difference: '0.25', largest: true },
      { index: 58, image: '0.1729487', framework: '0.17294873', difference: '-2.98e-8', largest: false }
    ]);
  });
});

describe('reading divergence.json', () => {
  it('accepts a report and refuses what is not one', () => {
    const good = report([layer(0)]);
    expect(parseDivergenceReport(JSON.parse(JSON.stringify(good)))).toEqual(good);
    expect(() => parseDivergenceReport({ ...good, format: 'edgespec.run' })).toThrow(InvalidReportError);
    expect(() => parseDivergenceReport({ ...good, status: 'maybe' })).toThrow(/"status"/);
    expect(() => parseDivergenceReport({ ...good, layers: [{ op: 'x' }] })).toThrow(/layer #0/);
    expect(() => parseDivergenceReport({ ...good, first_divergent: '3' })).toThrow(/first_divergent/);
  });
});
