// The trainer protocol, spoken by every engine (torch today, tfjs later): events on stdout, one JSON
// object per line; commands on stdin. Versioned by `hello.protocol`; the host checks every line.
import { array, boolean, type Infer, literal, messages, nullable, number, object, string } from '../schema';

export const TRAINER_PROTOCOL = 1;

const count = number({ integer: true, min: 0 });
const real = number();

export const trainerEvent = messages({
  hello: {
    protocol: literal(TRAINER_PROTOCOL),
    engine: literal('torch', 'tfjs'),
    versions: object({ python: nullable(string({ maxLength: 50 })), torch: nullable(string({ maxLength: 50 })), torchvision: nullable(string({ maxLength: 50 })) }),
    device: object({ type: literal('cpu', 'cuda', 'mps'), name: string({ maxLength: 200 }) }),
  },
  dataset: {
    name: string({ maxLength: 200 }),
    train: count,
    validation: count,
    test: count,
    classes: array(string({ maxLength: 100 }), { maxLength: 1000 }),
    shape: array(count, { maxLength: 4 }),
    mean: array(real, { maxLength: 4 }),
    std: array(real, { maxLength: 4 }),
  },
  model: { className: string({ maxLength: 200 }), totalParams: count, trainableParams: count, loss: literal('cross_entropy', 'nll') },
  progress: { epoch: count, epochs: count, step: count, steps: count, loss: real, imagesPerSecond: real, lr: real, etaSeconds: real },
  epoch: { epoch: count, trainLoss: real, validLoss: nullable(real), validAccuracy: nullable(real), seconds: real },
  checkpoint: { path: string({ maxLength: 4096 }), best: boolean, message: nullable(string({ maxLength: 500 })) },
  test: {
    loss: real,
    accuracy: real,
    perClass: array(object({ name: string({ maxLength: 100 }), correct: count, total: count }), { maxLength: 1000 }),
    confusion: array(array(count, { maxLength: 1000 }), { maxLength: 1000 }),
  },
  done: { status: literal('completed', 'cancelled'), runDir: string({ maxLength: 4096 }), seconds: real },
  error: { message: string({ maxLength: 4000 }), detail: nullable(string({ maxLength: 20_000 })) },
});

export type TrainerEvent = Infer<typeof trainerEvent>;

export type TrainerCommand = { type: 'stop' } | { type: 'pause' } | { type: 'resume' };

/** The datasets the engines read (src/trainer/train.py's load_dataset). */
export const datasetIds = ['synthetic', 'mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetId = (typeof datasetIds)[number];

/** What a run trains, and how: written to the run folder as config.json, and read by the engine. */
export interface TrainingConfig {
  modelFile: string;
  className: string;
  dataset: DatasetId;
  dataDir: string | null;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  momentum: number;
  weightDecay: number;
  validSplit: number;
  seed: number;
  device: 'auto' | 'cpu' | 'cuda';
  /** Applied to training batches only: horizontal flips, rotation within ±degrees, crops with padding. */
  augment: { flip?: boolean; rotation?: number; cropPadding?: number } | null;
  /** 'dataset': the training set's mean and std per channel; a number such as 0.5: (x − v) / v. */
  normalize: 'dataset' | number;
  schedule: 'none' | 'step' | 'cosine' | 'onecycle';
}

/** What a run uses unless the user says otherwise: the course's MNIST settings with Adam, on the synthetic set. */
export const trainingDefaults: Omit<TrainingConfig, 'modelFile'> = {
  className: 'Net',
  dataset: 'synthetic',
  dataDir: null,
  epochs: 2,
  batchSize: 64,
  lr: 0.001,
  optimizer: 'adam',
  momentum: 0.9,
  weightDecay: 0,
  validSplit: 0.2,
  seed: 1,
  device: 'auto',
  augment: null,
  normalize: 'dataset',
  schedule: 'none',
};
