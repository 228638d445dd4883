// Augmentation as pixel moves, for engines that build batches themselves (tfjs): the same draws as
// the torch engine's batched tensor version, image by image.
import { augmentationDraws } from '../protocol/datasetBrowser';
import type { TrainingConfig } from '../protocol/trainer';

export type Augmentation = NonNullable<TrainingConfig['augment']>;

/**
 * Where each output pixel of one image reads its input, or −1 for black: a flip, a rotation within
 * ±degrees and a crop with padding drawn as the torch engine draws them (nearest neighbour; black
 * where the crop's shifted frame leaves the image, as torchvision's RandomCrop gives).
 */
export function sourcePixels(height: number, width: number, settings: Augmentation, next: () => number): Int32Array {
  const padding = settings.cropPadding ?? 0;
  const flip = settings.flip && next() < 0.5;
  const angle = (next() * 2 - 1) * (((settings.rotation ?? 0) * Math.PI) / 180);
  const sx = padding ? Math.floor(next() * (2 * padding + 1)) - padding : 0;
  const sy = padding ? Math.floor(next() * (2 * padding + 1)) - padding : 0;
  const [cos, sin, cx, cy] = [Math.cos(angle), Math.sin(angle), (width - 1) / 2, (height - 1) / 2];
  const source = new Int32Array(height * width).fill(-1);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      if (row + sy < 0 || row + sy >= height || column + sx < 0 || column + sx >= width) continue;
      // Output p reads c + R(p − c + s), mirrored about the centre when flipped.
      const [dx, dy] = [column - cx + sx, row - cy + sy];
      const x = Math.round(cx + cos * dx - sin * dy);
      const y = Math.round(cy + sin * dx + cos * dy);
      if (x >= 0 && x < width && y >= 0 && y < height) source[row * width + column] = y * width + (flip ? width - 1 - x : x);
    }
  }
  return source;
}

/** One C×H×W image drawn `augmentationDraws` times: black where a move brings in nothing. */
export function augmentPixels(image: ArrayLike<number>, shape: readonly number[], augmentation: Augmentation, next: () => number): Uint8Array {
  const [channels = 1, height = 0, width = 0] = shape;
  const plane = height * width;
  const size = channels * plane;
  const out = new Uint8Array(augmentationDraws * size);
  for (let draw = 0; draw < augmentationDraws; draw++) {
    const source = sourcePixels(height, width, augmentation, next);
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < plane; p++) {
        const from = source[p] ?? -1;
        out[draw * size + c * plane + p] = from < 0 ? 0 : (image[c * plane + from] ?? 0);
      }
    }
  }
  return out;
}
