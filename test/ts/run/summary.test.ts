import { RunReport } from '../../../src/common/types';
import { formatRunSummary } from '../../../src/toolchain/run/summary';

const base: RunReport = {
  format: 'edgespec.run',
  version: 1,
  model: 'mobilenet_v2',
  target: 'qemu-virt',
  status: 'ok',
  exit_code: 0,
  outputs: [],
  wall_ms: { value: 2393.6, how: 'from QEMU start to exit' },
  console: '',
  input: 'the reference input',
  guest_instructions: { value: 150606864, how: 'icount' },
  agreement: {
    max_abs_error: 1.79e-7,
    max_rel_error: 1.3e-4,
    max_abs_reference: 0.285,
    tolerance: 2.85e-5,
    within_tolerance: true,
    top1_match: true,
    top5_match: true,
    top5: [621, 728, 79, 930, 149],
    reference_top5: [621, 728, 79, 930, 149]
  }
};

describe('formatRunSummary', () => {
  it('gives status, agreement, guest instructions and wall time', () => {
    const text = formatRunSummary(base, '/b/run.json');
    expect(text.split('\n')[0]).toBe('run mobilenet_v2 on qemu-virt: ok');
    expect(text).toContain('max abs error 1.79e-7 <= tolerance 2.85e-5');
    expect(text).toContain('top-1 same, top-5 same');
    expect(text).toContain('instructions 150,606,864 (icount)');
    expect(text).toContain('wall time    2.394 s (from QEMU start to exit)');
    expect(text).toContain('report       /b/run.json');
  });

  it('shows a mismatch and a fault plainly', () => {
    const mismatch = formatRunSummary({ ...base, status: 'mismatch', agreement: { ...base.agreement!, max_abs_error: 1, within_tolerance: false, top5_match: false } }, 'r');
    expect(mismatch).toContain('MISMATCH');
    expect(mismatch).toContain('max abs error 1.00e+0 > tolerance');
    expect(mismatch).toContain('top-5 DIFFERENT');
    const fault = formatRunSummary({ ...base, status: 'fault', agreement: undefined, exit_code: 3, error: 'the guest faulted: x', fault: { exception_class: 'data abort', address: '0x0', symbol: 'f+0x4', esr: '0x96000005' } }, 'r');
    expect(fault).toContain('fault        data abort at 0x0 in f+0x4 (ESR 0x96000005)');
    expect(fault).not.toContain('agreement');
    expect(fault).not.toContain('error ');
  });
});
