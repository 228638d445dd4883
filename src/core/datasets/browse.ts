// What the dataset browser shows, computed from a dataset in memory (or an image folder's listing):
// a split's summary, a page of images (optionally of one class), and one image under the run's
// augmentation, drawn many times.
import { basename } from 'node:path';
import { browserPageSize, type DatasetSummary, type DatasetToWebview } from '../protocol/datasetBrowser';
import { random } from '../random';
import { type Augmentation, augmentPixels } from '../training/augmentation';
import { imageDataUrl, type ImageFolderListing } from './imageFolder';
import { channelStatistics, type ImageDataset, type ImageSplit } from './images';

type Split = 'train' | 'test';
type Page = Extract<DatasetToWebview, { type: 'page' }>;

/** An image folder's files larger than this are not sent to the page. */
const maxImageBytes = 1_000_000;

export type BrowsedData = { kind: 'arrays'; dataset: ImageDataset } | { kind: 'files'; listing: ImageFolderListing };

export class DatasetPages {
  private readonly byClass = new Map<string, Int32Array>();

  constructor(
    private readonly name: string,
    private readonly folder: string | null,
    private readonly data: BrowsedData,
  ) {}

  summary(split: Split, augmentation: Augmentation): DatasetSummary {
    const labels = this.labels(split);
    const classes = this.classes();
    const classCounts = classes.map(() => 0);
    for (let i = 0; i < labels.length; i++) classCounts[labels[i] ?? 0] = (classCounts[labels[i] ?? 0] ?? 0) + 1;
    const base = { type: 'summary', dataset: this.name, folder: this.folder, split, count: labels.length, classes, classCounts, augmentation } as const;
    if (this.data.kind === 'files') return { ...base, splits: this.data.listing.test ? ['train', 'test'] : ['train'], shape: [], mean: [], std: [] };
    const images = this.data.dataset[split];
    const { mean, std } = channelStatistics(images);
    return { ...base, splits: ['train', 'test'], shape: [...images.shape], mean, std };
  }

  page(split: Split, offset: number, classFilter: number | null): Page {
    const labels = this.labels(split);
    const members = classFilter === null ? null : this.members(split, classFilter);
    const total = members ? members.length : labels.length;
    const start = Math.max(0, Math.min(offset, Math.max(0, total - 1)));
    const indices = Array.from({ length: Math.max(0, Math.min(browserPageSize, total - start)) }, (_, i) => (members ? (members[start + i] ?? 0) : start + i));
    const base = { type: 'page', split, classFilter, offset: start, total, indices, labels: indices.map((i) => labels[i] ?? 0) } as const;
    if (this.data.kind === 'files') {
      const files = this.files(split);
      const images = indices.map((i) => dataUrl(files[i]?.path ?? ''));
      return { ...base, pixels: '', images, names: indices.map((i) => basename(files[i]?.path ?? '')) };
    }
    const images = this.data.dataset[split];
    const size = imageSize(images);
    return { ...base, pixels: Buffer.concat(indices.map((i) => images.pixels.subarray(i * size, (i + 1) * size))).toString('base64') };
  }

  /** The image drawn `augmentationDraws` times through the augmentation, as the training batches see it (named datasets). */
  augmented(split: Split, index: number, augmentation: Augmentation, seed: number): Extract<DatasetToWebview, { type: 'augmented' }> | undefined {
    if (this.data.kind === 'files') return undefined; // the page moves the pixels it decoded itself
    const images = this.data.dataset[split];
    const size = imageSize(images);
    const pixels = augmentPixels(images.pixels.subarray(index * size, (index + 1) * size), images.shape, augmentation, random(seed));
    return { type: 'augmented', split, index, pixels: Buffer.from(pixels).toString('base64') };
  }

  private classes(): string[] {
    return this.data.kind === 'files' ? this.data.listing.classes : this.data.dataset.classes;
  }

  private files(split: Split) {
    return this.data.kind === 'files' ? ((split === 'test' ? this.data.listing.test : null) ?? this.data.listing.train) : [];
  }

  private labels(split: Split): ArrayLike<number> {
    return this.data.kind === 'files' ? this.files(split).map((f) => f.label) : this.data.dataset[split].labels;
  }

  private members(split: Split, label: number): Int32Array {
    const key = `${split}:${label}`;
    let members = this.byClass.get(key);
    if (!members) {
      const labels = this.labels(split);
      members = Int32Array.from(Array.from({ length: labels.length }, (_, i) => i).filter((i) => labels[i] === label));
      this.byClass.set(key, members);
    }
    return members;
  }
}

function dataUrl(path: string): string {
  try {
    return imageDataUrl(path, maxImageBytes);
  } catch {
    return '';
  }
}

const imageSize = (split: ImageSplit) => split.shape[0] * split.shape[1] * split.shape[2];
