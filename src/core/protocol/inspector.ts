// Messages between the host and the layer inspector, and between the host and activations.py.
import { array, boolean, type Infer, literal, messages, nullable, number, object, string } from '../schema';
import type { TrainingConfig } from './trainer';

const count = number({ integer: true, min: 0 });
const name = string({ maxLength: 300 });
/** Float32 values, little-endian, base64. */
const floats = string({ maxLength: 40_000_000 });
/** C×H×W bytes, base64. */
const image = object({ name, pixels: string({ maxLength: 4_000_000 }), shape: array(count, { maxLength: 3 }) });

/** One stage of the course's conv → ReLU → pool sequence: C×H×W maps. */
const stage = object({ name, shape: array(count, { maxLength: 3 }), data: floats });
const featureMaps = { image, stages: array(stage, { maxLength: 3 }) };
/** Per filter, the patches of the sample where it responds most, strongest first (C×size×size bytes each). */
const topPatches = {
  shape: array(count, { maxLength: 3 }),
  sample: count,
  filters: array(array(object({ pixels: string({ maxLength: 200_000 }), value: number(), index: count, label: name }), { maxLength: 16 }), { maxLength: 4096 }),
};
const progress = { done: count, total: count };
const path = string({ maxLength: 4096 });
/** ‖B − A‖₂, ‖B − A‖₂ / ‖A‖₂ and cos(A, B) of the layer's weights (null where a norm is 0). */
const change = object({ l2: number({ min: 0 }), relative: nullable(number({ min: 0 })), cosine: nullable(number()) });

export const inspectorToWebview = messages({
  layer: {
    checkpoint: string({ maxLength: 4096 }),
    format: name,
    layer: name,
    notes: array(name, { maxLength: 20 }),
    /** out × in × kernel height × kernel width, in PyTorch's order whatever the checkpoint's. */
    shape: array(count, { maxLength: 4 }),
    weights: floats,
    /** Why activations cannot be shown for this checkpoint, or null when they can. */
    activationsProblem: nullable(string({ maxLength: 1000 })),
    /** The problem goes once the workspace is trusted: the page offers Manage Workspace Trust. */
    trustNeeded: boolean,
    /** The run the checkpoint belongs to, for the way back to its dashboard. */
    runDir: nullable(string({ maxLength: 4096 })),
    /** The run's other checkpoints (before training, after epoch 1, last), offered to compare with. */
    comparable: array(object({ path, label: name }), { maxLength: 16 }),
    /** The checkpoint compared with ("A"; the inspected one is "B"): the same layer's filters in the same order, and what changed. */
    comparison: nullable(object({ checkpoint: path, label: name, weights: floats, change })),
    /** Why there is nothing to compare tile by tile (a shape mismatch, a layer the other lacks), or null. */
    comparisonProblem: nullable(string({ maxLength: 1000 })),
  },
  featureMaps,
  topPatches,
  progress,
  busy: { message: string({ maxLength: 500 }) },
  problem: { message: string({ maxLength: 4000 }) },
});

export const inspectorToHost = messages({
  ready: {},
  /** Runs an image through the model to the layer: a random test image of the run's dataset, or a workspace image the user picks. */
  featureMaps: { from: literal('dataset', 'workspace') },
  /** Finds each filter's strongest patches over the first `sample` test images. */
  topPatches: { sample: number({ integer: true, min: 1, max: 1_000_000 }) },
  showDashboard: {},
  manageTrust: {},
  /** Compares with one of the `comparable` checkpoints the host offered, or with none. */
  compareWith: { checkpoint: nullable(path) },
  /** Asks the host to offer every checkpoint it knows (the Checkpoints view's) to compare with. */
  pickComparison: {},
});

/** What activations.py prints. */
export const activationsAnswer = messages({ progress, activations: featureMaps, topPatches, error: { message: string({ maxLength: 4000 }) } });

export type InspectorToWebview = Infer<typeof inspectorToWebview>;
export type InspectorToHost = Infer<typeof inspectorToHost>;
export type ActivationsAnswer = Infer<typeof activationsAnswer>;

/** The one line the host writes to activations.py. */
export type ActivationsRequest = {
  config: TrainingConfig;
  checkpoint: string;
  layer: string;
  mean: number[];
  std: number[];
} & ({ kind: 'featureMaps'; image: { path: string | null; index: number | null } } | { kind: 'topPatches'; sample: number });
