/**
 * Trace summaries as the real `%%edgespec trace` magic displays them (captured once from
 * kernel-bridge's magic in IPython; paths and line numbers made stable).
 */
import { traceStaticHtml } from '../../../src/lab/model/staticHtml';
import { buildBlocker, modelTotals, opRows, unsupportedOps } from '../../../src/lab/model/traceTable';
import { parseTraceReport } from '../../../src/lab/model/validate';
import traces from './fixtures/traces.json';

describe('real trace summaries', () => {
  it('a traced model: buildable, with its ops', () => {
    const report = parseTraceReport(traces.traced_model);
    const model = report.models[0];
    expect(buildBlocker(model)).toBeNull();
    expect(unsupportedOps(report)).toEqual([]);
    expect(modelTotals(model).unsupported).toBe(0);
    expect(opRows(model).map(row => row.edgespecOp)).toContain('conv2d');
    // aten.detach is dropped at capture: marked removed, and not counted as an edgespec op
    expect(opRows(model).find(row => row.frameworkOp === 'aten.detach.default')!.removed).toBe(true);
    expect(modelTotals(model).edgespecOps).toBe(6);
  });

  it('an unsupported op: listed once with where it was met, and the model is blocked with the reason', () => {
    const report = parseTraceReport(traces.unsupported_op);
    expect(unsupportedOps(report)).toEqual([{ op: 'aten.sort.default', where: ['sorter · <ipython-input-3>:4'], count: 1 }]);
    const blocker = buildBlocker(report.models[0])!;
    expect(blocker).toMatch(/^Cannot build sorter: 1 operation outside the edgespec op vocabulary/);
    const html = traceStaticHtml(report);
    expect(html).toContain('Unsupported ops: aten.sort.default');
    expect(html).toContain('not captured');
  });

  it('a cell with no model call: the error and its fix', () => {
    const report = parseTraceReport(traces.no_model_call);
    expect(report.models).toEqual([]);
    expect(report.error!.hint).toMatch(/call the model in the traced cell/);
    expect(traceStaticHtml(report)).toContain('the cell called no model');
  });
});
