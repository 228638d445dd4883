// Messages between the host and the filter playground. Both sides validate what they receive.
import { array, boolean, type Infer, literal, messages, nullable, number, object, type Schema, SchemaError, string } from '../schema';

/** Largest kernel side and deepest stack the playground edits: beyond them the page would crawl. */
export const maxKernelSize = 15;
export const maxFilters = 16;

const weights = array(array(number({ min: -1e6, max: 1e6 }), { maxLength: maxKernelSize }), { maxLength: maxKernelSize });
/** A rectangular grid of weights, at least 1×1. */
export const kernelSchema: Schema<number[][]> = {
  parse(value, path = '') {
    const rows = weights.parse(value, path);
    const width = rows[0]?.length ?? 0;
    if (width === 0 || rows.some((row) => row.length !== width)) throw new SchemaError(path, 'a kernel needs rows of one length, at least 1×1');
    return rows;
  },
};

const side = number({ integer: true, min: 1, max: 16 });

/** The "conv layer" the playground builds: fixed filters over a grey or colour image, then ReLU and pooling. */
export const playgroundLayer = object({
  filters: array(object({ name: string({ maxLength: 100 }), kernel: kernelSchema }), { maxLength: maxFilters }),
  edge: literal('extend', 'zero', 'crop'),
  /** grey: one channel as cv2.cvtColor makes it; rgb: each filter over R, G and B apart. */
  channels: literal('grey', 'rgb'),
  relu: boolean,
  pool: nullable(object({ kind: literal('max', 'avg'), size: side, stride: side })),
});
export type PlaygroundLayer = Infer<typeof playgroundLayer>;

const count = number({ integer: true, min: 0 });

export const playgroundToWebview = messages({
  /** An image to filter: a file for the page to decode (`url`, a data: URL), or raw C×H×W bytes (`pixels`, base64). */
  image: {
    name: string({ maxLength: 500 }),
    /** The workspace file it came from, when it did (the generated code reads it). */
    path: nullable(string({ maxLength: 4096 })),
    url: nullable(string({ maxLength: 40_000_000 })),
    pixels: nullable(string({ maxLength: 4_000_000 })),
    shape: array(count, { maxLength: 3 }),
  },
  problem: { message: string({ maxLength: 2000 }) },
});

export const playgroundToHost = messages({
  ready: {},
  /** Asks the host for an image: a workspace file or a dataset sample (files dropped on the page are decoded there). */
  openImage: { from: literal('workspace', 'dataset') },
  /** The user picked a preset kernel (the walkthrough's playground step waits for Sobel). */
  presetApplied: { name: string({ maxLength: 100 }) },
  /** Writes the layer as PyTorch code into a new editor. */
  writeCode: { layer: playgroundLayer, image: object({ path: nullable(string({ maxLength: 4096 })), width: count, height: count }) },
});

export type PlaygroundToWebview = Infer<typeof playgroundToWebview>;
export type PlaygroundToHost = Infer<typeof playgroundToHost>;
export type PlaygroundImage = Extract<PlaygroundToWebview, { type: 'image' }>;
