// The course's image filtering, exactly: a kernel slid over a grey image (cross-correlation, as
// OpenCV's filter2D and PyTorch's conv2d compute it), with the edge handling the course lists, then
// ReLU and pooling. Pure arithmetic on Float32Arrays, for the filter playground and its tests.

export interface Plane {
  width: number;
  height: number;
  /** Row-major values, height × width. */
  data: Float32Array;
}

/** extend: border pixels repeat outwards; zero: zeros outside; crop: only where the kernel fits (the output shrinks). */
export type EdgeMode = 'extend' | 'zero' | 'crop';

/** The output size of a k_h × k_w kernel over the image: the same with padding, k − 1 smaller when cropping. */
export function outputSize(width: number, height: number, kernel: readonly (readonly number[])[], edge: EdgeMode): { width: number; height: number } {
  const kh = kernel.length;
  const kw = kernel[0]?.length ?? 0;
  return edge === 'crop' ? { width: Math.max(0, width - kw + 1), height: Math.max(0, height - kh + 1) } : { width, height };
}

/**
 * Each output pixel is the sum of the kernel's weights times the pixels under it. With padding the
 * kernel's anchor is its centre (row and column ⌊k/2⌋, OpenCV's default, so even kernels lean down and right).
 */
export function convolve(image: Plane, kernel: readonly (readonly number[])[], edge: EdgeMode): Plane {
  const kh = kernel.length;
  const kw = kernel[0]?.length ?? 0;
  const { width, height } = outputSize(image.width, image.height, kernel, edge);
  const [ay, ax] = edge === 'crop' ? [0, 0] : [Math.floor(kh / 2), Math.floor(kw / 2)];
  const weights = Float32Array.from(kernel.flat());
  const data = new Float32Array(width * height);
  const last = { x: image.width - 1, y: image.height - 1 };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let i = 0; i < kh; i++) {
        let sy = y + i - ay;
        if (sy < 0 || sy > last.y) {
          if (edge === 'zero') continue;
          sy = Math.min(Math.max(sy, 0), last.y);
        }
        for (let j = 0; j < kw; j++) {
          let sx = x + j - ax;
          if (sx < 0 || sx > last.x) {
            if (edge === 'zero') continue;
            sx = Math.min(Math.max(sx, 0), last.x);
          }
          sum += (weights[i * kw + j] ?? 0) * (image.data[sy * image.width + sx] ?? 0);
        }
      }
      data[y * width + x] = sum;
    }
  }
  return { width, height, data };
}

export function relu(plane: Plane): Plane {
  return { ...plane, data: plane.data.map((v) => Math.max(0, v)) };
}

/** Max or average pooling over size × size windows moved by stride; windows that do not fit are dropped, as nn.MaxPool2d does. */
export function pool(plane: Plane, size: number, stride: number, kind: 'max' | 'avg'): Plane {
  const width = Math.max(0, Math.floor((plane.width - size) / stride) + 1);
  const height = Math.max(0, Math.floor((plane.height - size) / stride) + 1);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let best = Number.NEGATIVE_INFINITY;
      let sum = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const v = plane.data[(y * stride + i) * plane.width + x * stride + j] ?? 0;
          best = Math.max(best, v);
          sum += v;
        }
      }
      data[y * width + x] = kind === 'max' ? best : sum / (size * size);
    }
  }
  return { width, height, data };
}

/** What an 8-bit image library keeps of a filtered image: negatives become 0, values over 255 become 255. */
export function clipToBytes(plane: Plane): Uint8ClampedArray {
  return Uint8ClampedArray.from(plane.data, (v) => Math.round(v));
}

const transpose = (k: number[][]) => k[0]?.map((_, j) => k.map((row) => row[j] ?? 0)) ?? [];
const negate = (k: number[][]) => k.map((row) => row.map((v) => (v === 0 ? 0 : -v)));
/** The course's 4×4 vertical-edge filter: dark on the left, bright on the right. */
const courseEdge = [
  [-1, -1, 1, 1],
  [-1, -1, 1, 1],
  [-1, -1, 1, 1],
  [-1, -1, 1, 1],
];

/** The kernels the course uses and the usual ones beside them, by name. */
export const presetKernels: Record<string, number[][]> = {
  'Sobel x': [
    [-1, 0, 1],
    [-2, 0, 2],
    [-1, 0, 1],
  ],
  'Sobel y': [
    [-1, -2, -1],
    [0, 0, 0],
    [1, 2, 1],
  ],
  Laplacian: [
    [0, 1, 0],
    [1, -4, 1],
    [0, 1, 0],
  ],
  'Box blur': Array.from({ length: 3 }, () => Array<number>(3).fill(1 / 9)),
  Sharpen: [
    [0, -1, 0],
    [-1, 5, -1],
    [0, -1, 0],
  ],
  Emboss: [
    [-2, -1, 0],
    [-1, 1, 1],
    [0, 1, 2],
  ],
  'Course edge (vertical)': courseEdge,
  'Course edge (vertical, negated)': negate(courseEdge),
  'Course edge (horizontal)': transpose(courseEdge),
  'Course edge (horizontal, negated)': negate(transpose(courseEdge)),
};
