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
 * The image is padded first, so the inner loop has no edge tests.
 */
export function convolve(image: Plane, kernel: readonly (readonly number[])[], edge: EdgeMode): Plane {
  const kh = kernel.length;
  const kw = kernel[0]?.length ?? 0;
  const { width, height } = outputSize(image.width, image.height, kernel, edge);
  const source = edge === 'crop' ? image : padded(image, kh, kw, edge);
  const data = new Float32Array(width * height);
  const stride = source.width;
  const pixels = source.data;
  // Tap by tap: each weight adds a shifted copy of the image, a tight loop the JIT keeps in registers.
  kernel.forEach((row, i) =>
    row.forEach((weight, j) => {
      if (weight === 0) return;
      for (let y = 0; y < height; y++) {
        const from = (y + i) * stride + j;
        const to = y * width;
        for (let x = 0; x < width; x++) data[to + x] = (data[to + x] ?? 0) + weight * (pixels[from + x] ?? 0);
      }
    }),
  );
  return { width, height, data };
}

/** The image with ⌊k/2⌋ pixels before and k − 1 − ⌊k/2⌋ after on each axis, repeated from the border or zero. */
function padded(image: Plane, kh: number, kw: number, edge: 'extend' | 'zero'): Plane {
  const [top, left] = [Math.floor(kh / 2), Math.floor(kw / 2)];
  const width = image.width + kw - 1;
  const height = image.height + kh - 1;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = y - top;
    if (edge === 'zero' && (sy < 0 || sy >= image.height)) continue;
    const from = Math.min(Math.max(sy, 0), image.height - 1) * image.width;
    const row = y * width;
    data.set(image.data.subarray(from, from + image.width), row + left);
    if (edge === 'extend') {
      data.fill(image.data[from] ?? 0, row, row + left);
      data.fill(image.data[from + image.width - 1] ?? 0, row + left + image.width, row + width);
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

/** What an 8-bit image library keeps of a filtered image: negatives become 0, values over 255 become 255, the rest rounded half to even as OpenCV's saturate_cast does. */
export function clipToBytes(plane: Plane): Uint8ClampedArray {
  const bytes = new Uint8ClampedArray(plane.data.length);
  bytes.set(plane.data);
  return bytes;
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
