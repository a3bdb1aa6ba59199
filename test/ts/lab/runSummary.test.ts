import { agreementRows, measurements, outputRows, runVerdict, topFiveRows } from '../../../src/lab/model/runSummary';
import { sampleRun } from './fixtures';

describe('run summary', () => {
  it('says the image agrees when within tolerance', () => {
    const verdict = runVerdict(sampleRun());
    expect(verdict.tone).toBe('good');
    expect(verdict.title).toBe('The image agrees with the framework');
    expect(verdict.detail).toBe('max abs error 2.40e-7 ≤ tolerance 3.10e-4, top-1 matches, top-5 matches');
  });

  it('names a mismatch, a fault and a timeout', () => {
    const run = sampleRun();
    const mismatch = runVerdict({
      ...run,
      status: 'mismatch',
      agreement: { ...run.agreement!, max_abs_error: 0.5, within_tolerance: false }
    });
    expect(mismatch).toMatchObject({ tone: 'bad', detail: 'max abs error 0.5 > tolerance 3.10e-4' });
    const fault = runVerdict({
      ...run,
      status: 'fault',
      exit_code: 3,
      fault: { exception_class: 'data abort', address: '0x40001000', symbol: 'es_gemm_f32', esr: '0x96000045' }
    });
    expect(fault.detail).toBe('data abort at 0x40001000 in es_gemm_f32 (ESR 0x96000045)');
    expect(runVerdict({ ...run, status: 'timeout', error: 'killed after 60 s' }).detail).toBe('killed after 60 s');
  });

  it('lists agreement rows and top-5 with matches', () => {
    const run = sampleRun();
    expect(agreementRows(run).map(row => [row.label, row.ok])).toEqual([
      ['max abs error', true],
      ['max rel error', null],
      ['top-1', true],
      ['top-5', true]
    ]);
    const swapped = { ...run, agreement: { ...run.agreement!, top5: [7, 4, 2, 5, 9] } };
    expect(topFiveRows(swapped).map(row => [row.guest, row.sameRank, row.inReference])).toEqual([
      [7, true, true],
      [4, false, true],
      [2, false, true],
      [5, true, true],
      [9, false, false]
    ]);
    expect(agreementRows({ ...run, agreement: undefined })).toEqual([]);
  });

  it('names the tolerance factor the run was judged with: 1e-4 for fp32, 5e-2 for int8', () => {
    const run = sampleRun();
    const detail = (tolerance: number, max: number) =>
      agreementRows({ ...run, agreement: { ...run.agreement!, tolerance, max_abs_reference: max } })[0].detail;
    expect(detail(3.1e-4, 3.1)).toBe('tolerance 3.10e-4 = 1e-4 × max|reference| (3.1)');
    expect(detail(0.00829, 0.1658)).toBe('tolerance 0.00829 = 5e-2 × max|reference| (0.1658)');
    expect(detail(0, 0)).toBe('tolerance 0 = max|reference| (0)');
  });

  it('reports numbers with how they were measured', () => {
    expect(measurements(sampleRun())).toEqual([
      { label: 'wall time', value: '413 ms', how: 'process.hrtime from QEMU start to result' },
      { label: 'guest instructions', value: '1.23 M', how: 'QEMU -icount' },
      { label: 'exit code', value: '0', how: 'exit status of the guest' }
    ]);
    expect(measurements(sampleRun({ exit_code: null, guest_instructions: undefined }))[1].value).toBe('none (killed)');
  });

  it('shows the first output values', () => {
    expect(outputRows(sampleRun())[0]).toEqual({
      name: 'logits',
      shape: '1×10',
      dtype: 'float32',
      first: '0.5, -1.25, 3, 1.20e-5, 2, 1, …',
      file: 'output.bin'
    });
  });
});
