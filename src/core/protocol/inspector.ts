// Messages between the host and the layer inspector, and the activations helper's one answer.
import { array, type Infer, literal, messages, nullable, number, object, string } from '../schema';

const count = number({ integer: true, min: 0 });
const name = string({ maxLength: 300 });
/** Float32 values, little-endian, base64. */
const floats = string({ maxLength: 40_000_000 });

/** One stage of the course's conv → ReLU → pool sequence: C×H×W maps. */
const stage = object({ name, shape: array(count, { maxLength: 3 }), data: floats });

export const inspectorToWebview = messages({
  layer: {
    checkpoint: string({ maxLength: 4096 }),
    format: name,
    layer: name,
    notes: array(name, { maxLength: 20 }),
    /** out × in × kernel height × kernel width, in PyTorch's order whatever the checkpoint's. */
    shape: array(count, { maxLength: 4 }),
    weights: floats,
    /** Why feature maps cannot be shown for this checkpoint, or null when they can. */
    featureMapsProblem: nullable(string({ maxLength: 1000 })),
    /** The run the checkpoint belongs to, for the way back to its dashboard. */
    runDir: nullable(string({ maxLength: 4096 })),
  },
  featureMaps: {
    image: object({ name, pixels: string({ maxLength: 4_000_000 }), shape: array(count, { maxLength: 3 }) }),
    stages: array(stage, { maxLength: 3 }),
  },
  busy: { message: string({ maxLength: 500 }) },
  problem: { message: string({ maxLength: 4000 }) },
});

export const inspectorToHost = messages({
  ready: {},
  /** Runs an input image through the model to the layer: a random test image of the run's dataset. */
  featureMaps: { from: literal('dataset') },
  showDashboard: {},
});

/** What activations.py prints: the stages, or why it could not. */
export const activationsAnswer = messages({
  activations: { stages: array(stage, { maxLength: 3 }) },
  error: { message: string({ maxLength: 4000 }) },
});

export type InspectorToWebview = Infer<typeof inspectorToWebview>;
export type InspectorToHost = Infer<typeof inspectorToHost>;
export type ActivationsAnswer = Infer<typeof activationsAnswer>;
export type ActivationStage = Extract<ActivationsAnswer, { type: 'activations' }>['stages'][number];

/** The one line the host writes to activations.py. */
export interface ActivationsRequest {
  modelFile: string;
  className: string;
  checkpoint: string;
  layer: string;
  image: { pixels: string; shape: number[] };
  mean: number[];
  std: number[];
}
