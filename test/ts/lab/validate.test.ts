import { InvalidReportError, parseFootprint, parseRunReport, parseTraceReport } from '../../../src/lab/model/validate';
import { sampleFootprint, sampleRun, sampleTrace } from './fixtures';

describe('report validation', () => {
  it('accepts the reports it is meant for', () => {
    expect(parseFootprint(sampleFootprint()).model).toBe('tiny_cnn');
    expect(parseRunReport(sampleRun()).status).toBe('ok');
    expect(parseTraceReport(sampleTrace()).models).toHaveLength(1);
  });

  it('names the problem in one sentence', () => {
    expect(() => parseFootprint('x')).toThrow(new InvalidReportError('The footprint report is not a JSON object (got string).'));
    expect(() => parseFootprint(sampleRun())).toThrow('has format "edgespec.run", expected "edgespec.footprint"');
    expect(() => parseRunReport({ ...sampleRun(), version: 2 })).toThrow(/version 2; this extension reads version 1/);
    const broken = sampleFootprint();
    (broken.tree.children![0].children![0] as unknown as Record<string, unknown>).bytes = 'many';
    expect(() => parseFootprint(broken)).toThrow('tree node at /image/flash needs a string "name" and a number "bytes"');
    const noFlash = sampleFootprint();
    noFlash.tree.children = noFlash.tree.children!.slice(1);
    expect(() => parseFootprint(noFlash)).toThrow('no "flash" child');
    expect(() => parseTraceReport({ ...sampleTrace(), models: [{ name: 'm' }] })).toThrow('model #1 needs');
    expect(() => parseRunReport({ ...sampleRun(), outputs: undefined })).toThrow('no "outputs" list');
  });
});
