// Damaged dataset files through the core's readers: headers with wrong magic, dimensions or sizes,
// truncations at every kind of boundary, labels past the last class. Each ends in a DatasetError
// that names the file and what is wrong, never another exception. Prints the counts.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, readIdx } from '../../src/core/datasets/datasets';
import { readCifar, readImageDataset } from '../../src/core/datasets/images';
import { random } from '../../src/core/random';
import { idx } from '../support/idx';

/** Runs `read`; a DatasetError with a message counts as refused, a success as read, anything else fails the test. */
function outcome(read: () => unknown, what: string): 'read' | 'refused' {
  try {
    read();
    return 'read';
  } catch (error) {
    assert.ok(error instanceof DatasetError, `${what}: ${(error as Error).name}: ${(error as Error).message}`);
    assert.ok(error.message.length > 20, what);
    return 'refused';
  }
}

describe('corrupt dataset files', () => {
  const counts = { cases: 0, refused: 0, read: 0 };
  after(() => process.stdout.write(`      ${counts.cases} damaged files: ${counts.refused} refused with a message, ${counts.read} still readable, 0 crashes\n`));
  const count = (result: 'read' | 'refused') => {
    counts.cases += 1;
    counts[result] += 1;
    return result;
  };

  it('IDX: every truncation and 300 random header damages end in a clear refusal or a correct read', () => {
    const good = idx([5, 4, 4], Uint8Array.from({ length: 80 }, (_, i) => i));
    for (let length = 0; length < good.length; length++) assert.equal(count(outcome(() => readIdx(good.subarray(0, length), 'images'), `cut at ${length}`)), 'refused', `cut at ${length}`);
    const next = random(7);
    for (let n = 0; n < 300; n++) {
      const damaged = Buffer.from(good);
      damaged[Math.floor(next() * 16)] = Math.floor(next() * 256);
      const result = count(outcome(() => readIdx(damaged, 'images'), `damage ${n}`));
      if (result === 'read') assert.equal(readIdx(damaged).data.length, damaged.length - 4 - 4 * (damaged[3] ?? 0));
    }
  });

  it('MNIST and CIFAR-10 folders: mismatched counts, wrong dimensions, labels past the last class, torn records', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-corrupt-'));
    const write = (name: string, files: Record<string, Buffer>) => {
      mkdirSync(join(dir, name), { recursive: true });
      for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, name, file), bytes);
      return join(dir, name);
    };
    const images = (n: number) => idx([n, 28, 28], new Uint8Array(n * 784));
    const labels = (values: number[]) => idx([values.length], Uint8Array.from(values));
    const mnist = (trainImages: Buffer, trainLabels: Buffer) => ({ 'train-images-idx3-ubyte': trainImages, 'train-labels-idx1-ubyte': trainLabels, 't10k-images-idx3-ubyte': images(2), 't10k-labels-idx1-ubyte': labels([0, 1]) });
    const cases: [string, () => unknown, RegExp][] = [
      ['3 images, 2 labels', () => readImageDataset('mnist', write('a', mnist(images(3), labels([1, 2]))), 0), /3 train images but 2 labels/],
      ['a label of 12', () => readImageDataset('mnist', write('b', mnist(images(2), labels([1, 12]))), 0), /record 1 has label 12, but the dataset has 10 classes/],
      ['labels with 2 dimensions', () => readImageDataset('mnist', write('c', mnist(images(2), idx([2, 1], Uint8Array.of(1, 2)))), 0), /labels a list/],
      ['a missing file', () => readImageDataset('mnist', write('d', { 'train-images-idx3-ubyte': images(2) }), 0), /not found/],
      ['a torn CIFAR record', () => readCifar(write('e', { 'data_batch_1.bin': Buffer.alloc(3073 + 100) }), ['data_batch_1.bin']), /not a whole number of 3,073-byte records/],
      ['a CIFAR label of 10', () => readCifar(write('f', { 'data_batch_1.bin': Buffer.concat([Buffer.from([10]), Buffer.alloc(3072)]) }), ['data_batch_1.bin']), /record 0 has label 10/],
    ];
    for (const [what, read, message] of cases) {
      assert.equal(count(outcome(read, what)), 'refused', what);
      assert.throws(read, message, what);
    }
  });
});
