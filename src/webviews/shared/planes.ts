// Planes of values drawn on canvases, the same way in every view: grey or RGB bytes, or signed
// values in blue (below zero) and orange (above) through black.
import { clipToBytes, type Plane } from '../../core/filters/convolve';

/** C×H×W bytes as one plane of values per channel. */
export function imagePlanes(bytes: Uint8Array, [channels = 1, height = 0, width = 0]: readonly number[]): Plane[] {
  const plane = height * width;
  return Array.from({ length: channels }, (_, c) => ({ width, height, data: Float32Array.from(bytes.subarray(c * plane, (c + 1) * plane)) }));
}

/** Draws planes on a canvas: one grey or three as RGB; `signed` maps ±scale to blue and orange through black. */
export function draw(canvas: HTMLCanvasElement, values: Plane[], mode: 'bytes' | 'signed', scale = signedScale(values)): void {
  const [first] = values;
  if (!first) return;
  const { width, height } = first;
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const context = canvas.getContext('2d');
  if (!context || !width || !height) return;
  const image = context.createImageData(width, height);
  const out = image.data;
  const count = width * height;
  if (mode === 'bytes') {
    const [r, g = r, b = r] = values.map(clipToBytes);
    if (!r || !g || !b) return;
    for (let p = 0, o = 0; p < count; p++, o += 4) {
      out[o] = r[p] ?? 0;
      out[o + 1] = g[p] ?? 0;
      out[o + 2] = b[p] ?? 0;
      out[o + 3] = 255;
    }
  } else if (values.length === 1) {
    const unit = scale > 0 ? 1 / scale : 0;
    const data = first.data;
    for (let p = 0, o = 0; p < count; p++, o += 4) {
      const v = (data[p] ?? 0) * unit;
      const a = v < 0 ? -v : v;
      // Orange (255, 150, 40) above zero, blue (70, 140, 255) below, black at zero.
      out[o] = (v >= 0 ? 255 : 70) * a;
      out[o + 1] = (v >= 0 ? 150 : 140) * a;
      out[o + 2] = (v >= 0 ? 40 : 255) * a;
      out[o + 3] = 255;
    }
  } else {
    // Colour: each channel around mid-grey, so the sign stays visible per channel.
    const unit = scale > 0 ? 127 / scale : 0;
    for (let c = 0; c < 3; c++) {
      const data = values[c]?.data;
      if (data) for (let p = 0; p < count; p++) out[4 * p + c] = 128 + (data[p] ?? 0) * unit;
    }
    for (let p = 0; p < count; p++) out[4 * p + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/**
 * The magnitude drawn at full colour: the 99.5th percentile of |v| over a sample, so that a few
 * extreme pixels do not leave every other edge nearly black.
 */
export function signedScale(values: Plane[]): number {
  const sample: number[] = [];
  for (const { data } of values) {
    const step = Math.max(1, Math.floor(data.length / 20_000));
    for (let p = 0; p < data.length; p += step) sample.push(Math.abs(data[p] ?? 0));
  }
  sample.sort((a, b) => a - b);
  return sample[Math.floor(0.995 * (sample.length - 1))] || sample[sample.length - 1] || 0;
}
