// Messages between the host and the dataset browser. Both sides validate what they receive.
import { array, boolean, type Infer, literal, messages, nullable, number, object, optional, string } from '../schema';

/** Images per page of the grid. */
export const browserPageSize = 64;
/** Draws in the augmentation preview. */
export const augmentationDraws = 16;

const count = number({ integer: true, min: 0 });
const split = literal('train', 'test');
const augmentation = object({ flip: optional(boolean), rotation: optional(number({ min: 0, max: 180 })), cropPadding: optional(number({ integer: true, min: 0, max: 64 })) });

export const datasetToWebview = messages({
  summary: {
    dataset: string({ maxLength: 200 }),
    folder: nullable(string({ maxLength: 4096 })),
    split,
    count,
    classes: array(string({ maxLength: 100 }), { maxLength: 1000 }),
    classCounts: array(count, { maxLength: 1000 }),
    /** The splits there are: an image folder without train/ and test/ has one. */
    splits: array(split, { maxLength: 2 }),
    /** [channels, height, width]; empty for an image folder, whose images the page decodes. */
    shape: array(count, { maxLength: 3 }),
    /** Per channel over the split's pixels in [0, 1]: what the trainer normalizes with ("dataset"); empty for an image folder. */
    mean: array(number(), { maxLength: 4 }),
    std: array(number(), { maxLength: 4 }),
    /** The augmentation the preview draws: the workspace's cnn-lab.json's, else the course's. */
    augmentation,
  },
  page: {
    split,
    /** Which class is shown, or null for all. */
    classFilter: nullable(count),
    offset: count,
    /** Images in the split (or in the class) in all. */
    total: count,
    /** Their positions in the split, labels, and pixels as stored (N×C×H×W bytes, base64). */
    indices: array(count, { maxLength: 256 }),
    labels: array(count, { maxLength: 256 }),
    pixels: string({ maxLength: 2_000_000 }),
    /** An image folder's files instead of pixels: data: URLs ('' for one too large to send), and their names. */
    images: optional(array(string({ maxLength: 1_400_000 }), { maxLength: 64 })),
    names: optional(array(string({ maxLength: 500 }), { maxLength: 64 })),
  },
  augmented: { split, index: count, pixels: string({ maxLength: 2_000_000 }) },
  problem: { message: string({ maxLength: 2000 }) },
});

export const datasetToHost = messages({
  ready: {},
  page: { split, offset: count, classFilter: nullable(count) },
  augment: { split, index: count },
});

export type DatasetToWebview = Infer<typeof datasetToWebview>;
export type DatasetToHost = Infer<typeof datasetToHost>;
export type DatasetSummary = Extract<DatasetToWebview, { type: 'summary' }>;
