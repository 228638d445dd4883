// The filter playground's arithmetic against values worked out by hand.
import * as assert from 'node:assert/strict';
import { clipToBytes, convolve, outputSize, type Plane, pool, presetKernels, relu } from '../../src/core/filters/convolve';

const plane = (rows: number[][]): Plane => ({ width: rows[0]?.length ?? 0, height: rows.length, data: Float32Array.from(rows.flat()) });
const rows = (p: Plane) => Array.from({ length: p.height }, (_, y) => Array.from(p.data.subarray(y * p.width, (y + 1) * p.width)));

// A 4×4 image with a vertical edge between columns 1 and 2.
const edge = plane([
  [0, 0, 9, 9],
  [0, 0, 9, 9],
  [0, 0, 9, 9],
  [0, 0, 9, 9],
]);
const sobelX = presetKernels['Sobel x'] ?? [];

describe('filters (the course\'s convolution, edges, ReLU and pooling)', () => {
  it('crops: only where the 3×3 kernel fits, a 2×2 output', () => {
    // Each window holds columns 0–2 or 1–3: (−1·0 + 1·9)·(1 + 2 + 1) = 36 at both.
    assert.deepEqual(rows(convolve(edge, sobelX, 'crop')), [
      [36, 36],
      [36, 36],
    ]);
    assert.deepEqual(outputSize(4, 4, sobelX, 'crop'), { width: 2, height: 2 });
  });

  it('pads with zeros: the image\'s own border looks like an edge too', () => {
    // Column 3: left neighbours 9 (×1, ×2, ×1), right ones outside (0): −(9 + 18 + 9) = −36 inside,
    // −27 at the top and bottom rows, where a row of the window is outside.
    assert.deepEqual(rows(convolve(edge, sobelX, 'zero')), [
      [0, 27, 27, -27],
      [0, 36, 36, -36],
      [0, 36, 36, -36],
      [0, 27, 27, -27],
    ]);
  });

  it('extends the border: no false edge at the image\'s sides', () => {
    assert.deepEqual(rows(convolve(edge, sobelX, 'extend')), [
      [0, 36, 36, 0],
      [0, 36, 36, 0],
      [0, 36, 36, 0],
      [0, 36, 36, 0],
    ]);
  });

  it('anchors an even kernel as OpenCV does, and clips negatives as an 8-bit image would', () => {
    const negated = presetKernels['Course edge (vertical, negated)'] ?? [];
    const out = convolve(edge, negated, 'extend');
    // Anchor (2, 2): output column 1 sees columns −1…2 → (0, 0, 0, 9): −(−0 −0 +0 +9)·4 = −36.
    assert.deepEqual(rows(out)[0], [0, -36, -72, -36]);
    assert.deepEqual(Array.from(clipToBytes(out)).slice(0, 4), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(clipToBytes(plane([[-3.4, 12.6, 300]]))), [0, 13, 255]);
    assert.deepEqual(presetKernels['Course edge (horizontal)']?.[0], [-1, -1, -1, -1]);
  });

  it('applies ReLU, then halves the size with 2×2 pooling, max or average', () => {
    const features = relu(plane([
      [1, -2, 3, 0],
      [4, 5, -6, 7],
      [-1, 0, 2, 2],
      [0, 8, 2, 2],
    ]));
    assert.deepEqual(rows(features)[1], [4, 5, 0, 7]);
    assert.deepEqual(rows(pool(features, 2, 2, 'max')), [
      [5, 7],
      [8, 2],
    ]);
    // (1 + 0 + 4 + 5) / 4, (3 + 0 + 0 + 7) / 4; (0 + 0 + 0 + 8) / 4, (2 + 2 + 2 + 2) / 4
    assert.deepEqual(rows(pool(features, 2, 2, 'avg')), [
      [2.5, 2.5],
      [2, 2],
    ]);
    // A 5-wide map loses its last column to 2×2 windows moved by 2, as nn.MaxPool2d drops it.
    assert.deepEqual(pool(plane([[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]), 2, 2, 'max').width, 2);
  });
});
