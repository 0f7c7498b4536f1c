import { describe, expect, it } from 'vitest';
import { cellsToSuppress } from './cell-suppression.ts';

describe('cellsToSuppress', () => {
  it('hides nothing when every cell counts at least k', () => {
    expect(cellsToSuppress([[10], [25], [400]], 10)).toEqual([false, false, false]);
  });

  it('hides a small cell and the next smallest, so the total minus the shown cells is not one cell', () => {
    expect(cellsToSuppress([[400], [9], [25], [60]], 10)).toEqual([false, true, true, false]);
  });

  it('keeps hiding until the hidden cells add up to k', () => {
    expect(cellsToSuppress([[1], [2], [3], [50], [40]], 10)).toEqual([true, true, true, false, true]);
  });

  it('treats a cell small in any of its counts as small, and protects every count', () => {
    // Cell 2 is small in the reference; the secondary cell must bring both sums to k.
    expect(
      cellsToSuppress(
        [
          [30, 500],
          [12, 3],
          [15, 900],
          [11, 40],
        ],
        10,
      ),
    ).toEqual([false, true, false, true]);
  });

  it('shows empty cells and never picks them to hide another', () => {
    expect(
      cellsToSuppress(
        [
          [0, 300],
          [4, 50],
          [0, 20],
          [200, 900],
        ],
        10,
      ),
    ).toEqual([false, true, false, true]);
  });

  it('hides everything when the whole is smaller than k', () => {
    expect(cellsToSuppress([[3], [4]], 10)).toEqual([true, true]);
  });
});
