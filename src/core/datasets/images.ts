// The named datasets read into memory from their original files, for the engines that run in Node
// (tfjs) and for the views: uint8 pixels, channel-major (N×C×H×W, as CIFAR's files and the torch
// engine keep them), labels as bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatasetId } from '../protocol/trainer';
import { downloadable } from './catalog';
import { random } from '../random';
import { DatasetError, findFile, readIdx } from './datasets';

export interface ImageSplit {
  /** count × channels × height × width bytes. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** [channels, height, width] */
  shape: [number, number, number];
}

export interface ImageDataset {
  train: ImageSplit;
  test: ImageSplit;
  classes: string[];
}

/** A dataset by name, from the folder that holds its files (prepareDataset's dataDir); synthetic is made from the seed. */
export function readImageDataset(id: DatasetId, folder: string | null, seed: number): ImageDataset {
  if (id === 'synthetic') return syntheticDataset(seed);
  const dataset = downloadable(id);
  if (!dataset || folder === null) throw new DatasetError(`${id}: no folder was given to read it from`);
  if (id === 'cifar10') {
    return { train: readCifar(folder, dataset.required.filter((name) => name.startsWith('data_'))), test: readCifar(folder, ['test_batch.bin']), classes: dataset.classes };
  }
  return { train: readIdxSplit(folder, 'train'), test: readIdxSplit(folder, 't10k'), classes: dataset.classes };
}

function readIdxFile(folder: string, name: string): ReturnType<typeof readIdx> {
  const path = findFile(folder, name);
  if (!path) throw new DatasetError(`${name} not found in ${folder}: put the original file (gzip-compressed or not) there, or let CNN Lab download it`);
  const bytes = readFileSync(path);
  return readIdx(path.endsWith('.gz') ? gunzipSync(bytes) : bytes, path);
}

function readIdxSplit(folder: string, prefix: 'train' | 't10k'): ImageSplit {
  const images = readIdxFile(folder, `${prefix}-images-idx3-ubyte`);
  const labels = readIdxFile(folder, `${prefix}-labels-idx1-ubyte`);
  const [count = 0, height = 0, width = 0] = images.shape;
  if (images.shape.length !== 3 || labels.shape.length !== 1) throw new DatasetError(`${folder}: ${prefix} images must be count × height × width and labels a list (their headers say ${images.shape.length} and ${labels.shape.length} dimensions)`);
  if (labels.shape[0] !== count) throw new DatasetError(`${folder}: ${count} ${prefix} images but ${labels.shape[0]} labels`);
  checkLabels(labels.data, 10, `${folder}: ${prefix} labels`);
  return { pixels: images.data, labels: labels.data, count, shape: [1, height, width] };
}

/** CIFAR-10's binary batches: one label byte, then 3,072 pixel bytes (the R, G and B planes of 32×32), per record. */
export function readCifar(folder: string, names: string[]): ImageSplit {
  const files = names.map((name) => {
    try {
      return readFileSync(join(folder, name));
    } catch {
      throw new DatasetError(`${name} not found in ${folder}: put CIFAR-10's binary version (cifar-10-batches-bin) there, or let CNN Lab download it`);
    }
  });
  const records = Buffer.concat(files);
  if (records.length % 3073 !== 0) throw new DatasetError(`cifar10: ${names.join(', ')} is truncated or corrupt (${records.length} bytes is not a whole number of 3,073-byte records)`);
  const count = records.length / 3073;
  const pixels = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = records[i * 3073] ?? 0;
    pixels.set(records.subarray(i * 3073 + 1, (i + 1) * 3073), i * 3072);
  }
  checkLabels(labels, 10, `cifar10: ${names.join(', ')}`);
  return { pixels, labels, count, shape: [3, 32, 32] };
}

/** A label past the last class is a corrupt file, said with its position, before it can index past the class names. */
function checkLabels(labels: Uint8Array, classes: number, what: string): void {
  const at = labels.findIndex((label) => label >= classes);
  if (at >= 0) throw new DatasetError(`${what}: record ${at} has label ${labels[at]}, but the dataset has ${classes} classes: the file is corrupt`);
}

/** 0 … count − 1 in a seeded random order (Fisher–Yates). */
export function shuffled(count: number, seed: number): Int32Array {
  const next = random(seed);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] ?? 0, order[i] ?? 0];
  }
  return order;
}

/**
 * The torch engine's synthetic set, drawn the same way (the draws differ: another generator): ten
 * classes of strokes on 28×28, one angle each 18° apart, shifted and noisy. Learnable in a minute, offline.
 */
export function syntheticDataset(seed: number): ImageDataset {
  const next = random(seed);
  const make = (count: number): ImageSplit => {
    const pixels = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      const label = Math.min(9, Math.floor(next() * 10));
      labels[n] = label;
      const angle = (label * Math.PI) / 10 + (next() - 0.5) * 0.15;
      const [shiftX, shiftY] = [(next() - 0.5) * 0.5, (next() - 0.5) * 0.5];
      for (let row = 0; row < 28; row++) {
        for (let column = 0; column < 28; column++) {
          const x = -1 + (2 * column) / 27 - shiftX;
          const y = -1 + (2 * row) / 27 - shiftY;
          const distance = Math.abs(x * Math.sin(angle) - y * Math.cos(angle));
          const stroke = x * x + y * y < 0.8 ? Math.min(1, Math.max(0, 1 - distance / 0.12)) : 0;
          pixels[n * 784 + row * 28 + column] = Math.floor(Math.min(1, stroke + next() * 0.3) * 255);
        }
      }
    }
    return { pixels, labels, count, shape: [1, 28, 28] };
  };
  return { train: make(6000), test: make(1000), classes: Array.from({ length: 10 }, (_, i) => `${i * 18}°`) };
}

/** Mean and standard deviation per channel of the chosen images' pixels in [0, 1] (all when none are named). */
export function channelStatistics(split: ImageSplit, images?: ArrayLike<number>): { mean: number[]; std: number[] } {
  const [channels, height, width] = split.shape;
  const plane = height * width;
  const chosen = images ?? { length: split.count };
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let squares = 0;
    for (let n = 0; n < chosen.length; n++) {
      const start = ((images ? (images[n] ?? 0) : n) * channels + c) * plane;
      for (let p = start; p < start + plane; p++) {
        const v = (split.pixels[p] ?? 0) / 255;
        sum += v;
        squares += v * v;
      }
    }
    const total = chosen.length * plane;
    mean.push(sum / Math.max(total, 1));
    std.push(Math.sqrt(Math.max(0, (squares - (sum * sum) / Math.max(total, 1)) / Math.max(total - 1, 1))));
  }
  return { mean, std };
}
