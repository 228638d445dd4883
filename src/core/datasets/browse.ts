// What the dataset browser shows, computed from a dataset in memory: a split's summary, a page of
// images (optionally of one class), and one image under the run's augmentation, drawn many times.
import { augmentationDraws, browserPageSize, type DatasetSummary, type DatasetToWebview } from '../protocol/datasetBrowser';
import { type Augmentation, sourcePixels } from '../training/augmentation';
import { channelStatistics, type ImageDataset, type ImageSplit, random } from './images';

type Split = 'train' | 'test';

export class DatasetPages {
  private readonly byClass = new Map<string, Int32Array>();

  constructor(
    private readonly name: string,
    private readonly folder: string | null,
    private readonly dataset: ImageDataset,
  ) {}

  summary(split: Split, augmentation: Augmentation): DatasetSummary {
    const images = this.dataset[split];
    const classCounts = this.dataset.classes.map(() => 0);
    for (const label of images.labels) classCounts[label] = (classCounts[label] ?? 0) + 1;
    const { mean, std } = channelStatistics(images);
    return { type: 'summary', dataset: this.name, folder: this.folder, split, count: images.count, classes: this.dataset.classes, classCounts, shape: [...images.shape], mean, std, augmentation };
  }

  page(split: Split, offset: number, classFilter: number | null): Extract<DatasetToWebview, { type: 'page' }> {
    const images = this.dataset[split];
    const members = classFilter === null ? null : this.members(split, classFilter);
    const total = members ? members.length : images.count;
    const start = Math.max(0, Math.min(offset, Math.max(0, total - 1)));
    const indices = Array.from({ length: Math.max(0, Math.min(browserPageSize, total - start)) }, (_, i) => (members ? (members[start + i] ?? 0) : start + i));
    const size = imageSize(images);
    const pixels = Buffer.concat(indices.map((i) => images.pixels.subarray(i * size, (i + 1) * size)));
    return { type: 'page', split, classFilter, offset: start, total, indices, labels: indices.map((i) => images.labels[i] ?? 0), pixels: pixels.toString('base64') };
  }

  /** The image drawn `augmentationDraws` times through the augmentation, as the training batches see it. */
  augmented(split: Split, index: number, augmentation: Augmentation, seed: number): Extract<DatasetToWebview, { type: 'augmented' }> {
    const images = this.dataset[split];
    const [channels, height, width] = images.shape;
    const size = imageSize(images);
    const plane = height * width;
    const image = images.pixels.subarray(index * size, (index + 1) * size);
    const next = random(seed);
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
    return { type: 'augmented', split, index, pixels: Buffer.from(out).toString('base64') };
  }

  private members(split: Split, label: number): Int32Array {
    const key = `${split}:${label}`;
    let members = this.byClass.get(key);
    if (!members) {
      const labels = this.dataset[split].labels;
      members = Int32Array.from(Array.from(labels.keys()).filter((i) => labels[i] === label));
      this.byClass.set(key, members);
    }
    return members;
  }
}

const imageSize = (split: ImageSplit) => split.shape[0] * split.shape[1] * split.shape[2];
