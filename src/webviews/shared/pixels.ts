// Decoded pictures as the views hold them: C×H×W bytes, the layout of the datasets' files.

/** Bytes the host sent as base64 (pixels, float32 maps). */
export const bytesOf = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/** A decoded image's pixels: one channel when every pixel is grey, else R, G and B. */
export function imagePixels(picture: CanvasImageSource, width: number, height: number): { pixels: Uint8Array; shape: [number, number, number] } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this webview cannot draw on a canvas');
  context.drawImage(picture, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const plane = width * height;
  let grey = true;
  for (let p = 0; p < plane && grey; p++) grey = rgba[4 * p] === rgba[4 * p + 1] && rgba[4 * p] === rgba[4 * p + 2];
  const channels = grey ? 1 : 3;
  const pixels = new Uint8Array(channels * plane);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) pixels[c * plane + p] = rgba[4 * p + c] ?? 0;
  return { pixels, shape: [channels, height, width] };
}
