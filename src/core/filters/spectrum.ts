// The frequency view: an image's 2-D amplitude spectrum, as the course explains frequency in images
// (a blur keeps the centre, the low frequencies; an edge filter keeps the rim, the high ones).
import type { Plane } from './convolve';

/**
 * log(1 + |F|) of the plane, centred (zero frequency in the middle). The plane is first averaged down
 * (or stretched) to size × size, a power of two, so one radix-2 FFT serves any image in a few ms.
 */
export function spectrum(plane: Plane, size = 256): Plane {
  if (size < 1 || (size & (size - 1)) !== 0) throw new Error(`spectrum size ${size} is not a power of two`);
  const re = resample(plane, size);
  const im = new Float64Array(size * size);
  const rowRe = new Float64Array(size);
  const rowIm = new Float64Array(size);
  for (const axis of ['rows', 'columns'] as const) {
    for (let line = 0; line < size; line++) {
      const at = (k: number) => (axis === 'rows' ? line * size + k : k * size + line);
      for (let k = 0; k < size; k++) {
        rowRe[k] = re[at(k)] ?? 0;
        rowIm[k] = im[at(k)] ?? 0;
      }
      fft(rowRe, rowIm);
      for (let k = 0; k < size; k++) {
        re[at(k)] = rowRe[k] ?? 0;
        im[at(k)] = rowIm[k] ?? 0;
      }
    }
  }
  const data = new Float32Array(size * size);
  const half = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = y * size + x;
      data[((y + half) % size) * size + ((x + half) % size)] = Math.log1p(Math.hypot(re[from] ?? 0, im[from] ?? 0));
    }
  }
  return { width: size, height: size, data };
}

/** Each target pixel the mean of the source pixels it covers (the nearest one when stretching). */
function resample(plane: Plane, size: number): Float64Array {
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    const y0 = Math.floor((y * plane.height) / size);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * plane.height) / size));
    for (let x = 0; x < size; x++) {
      const x0 = Math.floor((x * plane.width) / size);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * plane.width) / size));
      let sum = 0;
      for (let sy = y0; sy < y1; sy++) for (let sx = x0; sx < x1; sx++) sum += plane.data[sy * plane.width + sx] ?? 0;
      out[y * size + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/** In-place iterative radix-2 FFT (Cooley–Tukey); the length must be a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] ?? 0, re[i] ?? 0];
      [im[i], im[j]] = [im[j] ?? 0, im[i] ?? 0];
    }
  }
  for (let length = 2; length <= n; length <<= 1) {
    const angle = (-2 * Math.PI) / length;
    for (let start = 0; start < n; start += length) {
      for (let k = 0; k < length / 2; k++) {
        const [wr, wi] = [Math.cos(angle * k), Math.sin(angle * k)];
        const [a, b] = [start + k, start + k + length / 2];
        const [br, bi] = [re[b] ?? 0, im[b] ?? 0];
        const tr = br * wr - bi * wi;
        const ti = br * wi + bi * wr;
        re[b] = (re[a] ?? 0) - tr;
        im[b] = (im[a] ?? 0) - ti;
        re[a] = (re[a] ?? 0) + tr;
        im[a] = (im[a] ?? 0) + ti;
      }
    }
  }
}
