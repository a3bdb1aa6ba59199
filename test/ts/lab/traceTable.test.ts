import { buildBlocker, kernelsByOp, modelTotals, opRows, unsupportedOps } from '../../../src/lab/model/traceTable';
import { sampleFootprint, sampleTrace } from './fixtures';

describe('trace table', () => {
  const report = sampleTrace();
  const model = report.models[0];

  it('puts unsupported ops first, then by count', () => {
    expect(opRows(model).map(row => row.frameworkOp)).toEqual([
      'aten.sort.default',
      'aten.convolution.default',
      'aten.relu.default',
      'aten.addmm.default'
    ]);
    expect(opRows(model).every(row => row.kernel === null)).toBe(true);
  });

  it('fills kernel bytes from a build, counting a kernel once per op and noting sharing', () => {
    const byOp = kernelsByOp(sampleFootprint().kernels);
    expect(byOp.get('conv2d')).toEqual({ names: ['conv2d', 'gemm'], bytes: 2500, sharedWith: ['linear'] });
    expect(byOp.get('linear')).toEqual({ names: ['gemm'], bytes: 1000, sharedWith: ['conv2d'] });
    const rows = opRows(model, sampleFootprint().kernels);
    expect(rows.find(row => row.edgespecOp === 'linear')!.kernel!.bytes).toBe(1000);
    // relu is fused away in this build: no kernel of its own
    expect(rows.find(row => row.edgespecOp === 'relu')!.kernel).toBeNull();
  });

  it('gathers unsupported ops once, with where they were met', () => {
    expect(unsupportedOps(report)).toEqual([{ op: 'aten.sort.default', where: ['head · cell:7'], count: 1 }]);
    const plain = { ...report, unsupported: ['aten.nonzero.default'] };
    expect(unsupportedOps(plain).map(entry => entry.op)).toEqual(['aten.nonzero.default', 'aten.sort.default']);
  });

  it('finds unsupported ops in the op table even without the explicit list', () => {
    const withoutList = { ...report, unsupported: undefined };
    expect(unsupportedOps(withoutList).map(entry => entry.op)).toEqual(['aten.sort.default']);
  });

  it('sums a model and says why it cannot be built', () => {
    expect(modelTotals(model)).toEqual({ frameworkOps: 4, dispatched: 6, edgespecOps: 3, unsupported: 1 });
    expect(buildBlocker(model)).toBe('Cannot build tiny_cnn: unsupported op aten.sort.default.');
    const supported = { ...model, ops: model.ops.filter(op => op.supported) };
    expect(buildBlocker(supported)).toBeNull();
    expect(buildBlocker({ ...supported, bundle: null })).toMatch(/No bundle/);
  });
});
