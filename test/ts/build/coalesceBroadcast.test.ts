import { coalesceBroadcast } from '../../../src/toolchain/ops/elementwise';

describe('coalesceBroadcast: a broadcast walk over fewer dims', () => {
  it("merges Swin's windowed attention add [1, 4, 2, 4, 4] + [1, 1, 1, 4, 4] into 2 dims", () => {
    expect(coalesceBroadcast([1, 4, 2, 4, 4], [1, 4, 2, 4, 4], [1, 1, 1, 4, 4])).toEqual({ outShape: [8, 16], aStrides: [16, 1], bStrides: [0, 1] });
  });

  it('keeps apart dims where one operand broadcasts and the other does not', () => {
    // b varies along dims 2 and 4 only: the walk needs out[1..4] = [3, 5, 7, 2] as three runs
    expect(coalesceBroadcast([2, 3, 5, 7, 2], [2, 3, 5, 7, 2], [1, 1, 5, 1, 2])).toEqual({
      outShape: [6, 5, 7, 2], aStrides: [70, 14, 2, 1], bStrides: [0, 2, 0, 1]
    });
  });

  it('drops size-1 dims and merges a full walk into one', () => {
    expect(coalesceBroadcast([1, 2, 1, 3, 4], [1, 2, 1, 3, 4], [2, 1, 3, 4])).toEqual({ outShape: [24], aStrides: [1], bStrides: [1] });
  });

  it('says so when the walk still needs more than 4 dims', () => {
    expect(coalesceBroadcast([2, 2, 2, 2, 2], [2, 1, 2, 1, 2], [1, 2, 1, 2, 1]).outShape).toHaveLength(5);
  });
});
