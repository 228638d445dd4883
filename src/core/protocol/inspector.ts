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
