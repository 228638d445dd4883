// The filter playground's arithmetic against values worked out by hand.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clipToBytes, convolve, outputSize, type Plane, pool, presetKernels, relu } from '../../src/core/filters/convolve';
import { layerCode } from '../../src/core/filters/layerCode';
import { spectrum } from '../../src/core/filters/spectrum';
import { kernelSchema, type PlaygroundLayer, playgroundToHost } from '../../src/core/protocol/playground';
import { safeParse } from '../../src/core/schema';
import { png } from '../support/png';

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

  it('is fast enough to follow typing: the padded image keeps edge tests out of the inner loop', () => {
    // Not a timing test: the same sums with each edge mode on an image wider than the kernel on both sides.
    const image = { width: 7, height: 5, data: Float32Array.from({ length: 35 }, (_, i) => (i * 37) % 11) };
    const at = (x: number, y: number, edge: 'extend' | 'zero') => {
      if (x >= 0 && x < 7 && y >= 0 && y < 5) return image.data[y * 7 + x] ?? 0;
      return edge === 'zero' ? 0 : (image.data[Math.min(Math.max(y, 0), 4) * 7 + Math.min(Math.max(x, 0), 6)] ?? 0);
    };
    const kernel = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]; // 2×5: anchor row 1, column 2
    for (const edge of ['extend', 'zero'] as const) {
      const out = convolve(image, kernel, edge);
      for (let y = 0; y < 5; y++) {
        for (let x = 0; x < 7; x++) {
          const expected = kernel.reduce((sum, row, i) => row.reduce((s, w, j) => s + w * at(x + j - 2, y + i - 1, edge), sum), 0);
          assert.equal(out.data[y * 7 + x], expected, `${edge} at (${x}, ${y})`);
        }
      }
    }
  });
});

describe('frequency view', () => {
  it('puts a flat image\'s energy at the centre, and a vertical stripe pattern\'s on the horizontal axis', () => {
    const flat = spectrum({ width: 20, height: 12, data: new Float32Array(240).fill(3) }, 16);
    const centre = 8 * 16 + 8;
    assert.ok(Math.abs((flat.data[centre] ?? 0) - Math.log1p(3 * 256)) < 1e-4);
    assert.ok(Array.from(flat.data).every((v, i) => i === centre || v < 1e-4));
    // cos(2π·4x/16): peaks 4 either side of the centre on the middle row, nothing elsewhere.
    const stripes = spectrum({ width: 16, height: 16, data: Float32Array.from({ length: 256 }, (_, i) => Math.cos((2 * Math.PI * 4 * (i % 16)) / 16)) }, 16);
    const peaks = Array.from(stripes.data).flatMap((v, i) => (v > 1 ? [[i % 16, Math.floor(i / 16)]] : []));
    assert.deepEqual(peaks, [[4, 8], [12, 8]]);
    assert.ok(Math.abs((stripes.data[8 * 16 + 4] ?? 0) - Math.log1p(128)) < 1e-3);
  });
});

describe('the playground\'s layer as PyTorch code', () => {
  const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
  // A 9×7 picture with edges in both directions and colour that differs per channel.
  const colour = (x: number, y: number) => [x < 4 ? 30 : 200, y < 3 ? 10 : 120, (x * 29 + y * 13) % 256] as const;
  const grey = (x: number, y: number) => colour(x, y).reduce((sum, v, c) => sum + v * ([0.299, 0.587, 0.114][c] ?? 0), 0);
  const planeOf = (value: (x: number, y: number) => number): Plane => ({ width: 9, height: 7, data: Float32Array.from({ length: 63 }, (_, i) => value(i % 9, Math.floor(i / 9))) });

  /** Runs the code in PyTorch and returns `out` as nested lists. */
  function run(layer: PlaygroundLayer): number[][][] {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-code-'));
    writeFileSync(join(dir, 'picture.png'), png(9, 7, colour));
    const code = layerCode(layer, { path: join(dir, 'picture.png'), width: 9, height: 7 }).replace('print(out.shape)', 'import json; print(json.dumps(out[0].tolist()))');
    const result = spawnSync(python, ['-c', code], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '[]') as number[][][];
  }
  const near = (actual: number[][], expected: Plane, what: string) => {
    assert.deepEqual([actual.length, actual[0]?.length], [expected.height, expected.width], `${what}: shape`);
    actual.flat().forEach((v, i) => assert.ok(Math.abs(v - (expected.data[i] ?? NaN)) < 1e-3, `${what}: ${v} vs ${expected.data[i]} at ${i}`));
  };

  it('gives the playground\'s numbers for grey Sobel filters, an even course filter, ReLU and max pooling', () => {
    const kernels = { 'Sobel x': presetKernels['Sobel x'] ?? [], 'Sobel y': presetKernels['Sobel y'] ?? [] };
    const layer: PlaygroundLayer = { filters: Object.entries(kernels).map(([name, kernel]) => ({ name, kernel })), edge: 'extend', channels: 'grey', relu: true, pool: { kind: 'max', size: 2, stride: 2 } };
    const out = run(layer);
    const image = planeOf((x, y) => Math.round(grey(x, y)));
    Object.values(kernels).forEach((kernel, n) => near(out[n] ?? [], pool(relu(convolve(image, kernel, 'extend')), 2, 2, 'max'), `filter ${n}`));

    const even = presetKernels['Course edge (horizontal, negated)'] ?? [];
    for (const edge of ['zero', 'crop'] as const) {
      const [map = []] = run({ filters: [{ name: 'course', kernel: even }], edge, channels: 'grey', relu: false, pool: null });
      near(map, convolve(image, even, edge), `4×4 course filter, ${edge}`);
    }
  });

  it('runs each filter over R, G and B apart with groups=3, and average-pools', () => {
    const blur = presetKernels['Box blur'] ?? [];
    const out = run({ filters: [{ name: 'Box blur', kernel: blur }, { name: 'Laplacian', kernel: presetKernels['Laplacian'] ?? [] }], edge: 'zero', channels: 'rgb', relu: false, pool: { kind: 'avg', size: 3, stride: 2 } });
    assert.equal(out.length, 6);
    [0, 1, 2].forEach((channel) => {
      const image = planeOf((x, y) => colour(x, y)[channel] ?? 0);
      near(out[channel * 2] ?? [], pool(convolve(image, blur, 'zero'), 3, 2, 'avg'), `blur on channel ${channel}`);
    });
  });

  it('refuses filters of different sizes, which one nn.Conv2d cannot hold', () => {
    assert.throws(
      () => layerCode({ filters: [{ name: 'a', kernel: [[1]] }, { name: 'b', kernel: [[1, 2], [3, 4]] }], edge: 'zero', channels: 'grey', relu: false, pool: null }, { path: null, width: 4, height: 4 }),
      /different sizes: one nn.Conv2d needs them all 1×1/,
    );
  });
});

describe('the playground\'s messages from its page', () => {
  const layer = { filters: [{ name: 'Sobel x', kernel: presetKernels['Sobel x'] }], edge: 'zero', channels: 'grey', relu: true, pool: null };
  const writeCode = (changes: object) => safeParse(playgroundToHost, { type: 'writeCode', layer: { ...layer, ...changes }, image: { path: null, width: 4, height: 4 } });

  it('takes a well-formed layer, and refuses ragged, empty, huge or infinite kernels and unknown fields, naming the place', () => {
    assert.equal(writeCode({}).ok, true);
    const refused = (changes: object) => {
      const result = writeCode(changes);
      return result.ok ? 'accepted' : result.error;
    };
    assert.match(refused({ filters: [{ name: 'r', kernel: [[1, 2], [3]] }] }), /layer\.filters\[0\]\.kernel: a kernel needs rows of one length/);
    assert.match(refused({ filters: [{ name: 'e', kernel: [] }] }), /at least 1×1/);
    assert.match(refused({ filters: [{ name: 'h', kernel: Array.from({ length: 16 }, () => [1]) }] }), /array longer than 15 items/);
    assert.match(refused({ filters: [{ name: 'i', kernel: [[Infinity]] }] }), /Infinity is outside/);
    assert.match(refused({ edge: 'wrap' }), /layer\.edge: expected "extend" or "zero" or "crop"/);
    assert.match(refused({ pool: { kind: 'max', size: 2, stride: 2, extra: 1 } }), /unexpected field "extra"/);
    assert.equal(safeParse(kernelSchema, [[0.5, -1], [1 / 9, 2]]).ok, true);
  });
});
