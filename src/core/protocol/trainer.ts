// The trainer protocol, spoken by every engine (torch: train.py, tfjs: tfjs.ts): events on stdout, one JSON
// object per line; commands on stdin. Versioned by `hello.protocol`; the host checks every line.
import { array, boolean, type Infer, literal, messages, nullable, number, object, optional, partial, string, union } from '../schema';

export const TRAINER_PROTOCOL = 1;

const count = number({ integer: true, min: 0 });
const real = number();

/** The test set's report: overall, per class, and the confusion matrix (rows: true class). */
export const testReport = {
  loss: real,
  accuracy: real,
  perClass: array(object({ name: string({ maxLength: 100 }), correct: count, total: count }), { maxLength: 1000 }),
  confusion: array(array(count, { maxLength: 1000 }), { maxLength: 1000 }),
};

export const sampleImages = {
  /** N×C×H×W uint8 pixels as stored in the dataset, base64; labels and predictions index dataset.classes. */
  shape: array(count, { maxLength: 4 }),
  pixels: string({ maxLength: 1_500_000 }),
  labels: array(count, { maxLength: 256 }),
  predicted: array(count, { maxLength: 256 }),
};

export const trainerEvent = messages({
  hello: {
    protocol: literal(TRAINER_PROTOCOL),
    engine: literal('torch', 'tfjs'),
    versions: object({
      python: nullable(string({ maxLength: 50 })),
      torch: nullable(string({ maxLength: 50 })),
      torchvision: nullable(string({ maxLength: 50 })),
      node: optional(string({ maxLength: 50 })),
      tfjs: optional(string({ maxLength: 50 })),
    }),
    /** What computes: the torch device type, or the TF.js package and its backend. */
    backend: string({ maxLength: 200 }),
    /** Something the user should hear once before training starts, such as why it will be slow. */
    advice: nullable(string({ maxLength: 1000 })),
    device: object({ type: literal('cpu', 'cuda', 'mps'), name: string({ maxLength: 200 }) }),
    /** Processes training together (torchrun); 1 for one. */
    worldSize: count,
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
    /** Images per step on each device: the configured one, or what the engine chose. */
    batchSize: count,
    /** The dataset lives on the training device and is batched, normalized and augmented there. */
    fastPath: boolean,
  },
  model: {
    className: string({ maxLength: 200 }),
    totalParams: count,
    trainableParams: count,
    loss: literal('cross_entropy', 'nll'),
    precision: literal('float32', 'float16', 'bfloat16'),
    channelsLast: boolean,
    compiled: boolean,
  },
  /** What happened before the first step (imports, device, dataset, model, the first step itself): most of a short run. */
  startUp: {
    /** From the engine's start to the end of its first step. */
    seconds: real,
    phases: array(object({ name: string({ maxLength: 100 }), seconds: real }), { maxLength: 20 }),
  },
  /** Choices measured in the first steps (CPU threads, mixed precision, torch.compile): what each candidate ran at, and the winner. */
  tuned: {
    chosen: string({ maxLength: 300 }),
    tried: array(object({ label: string({ maxLength: 300 }), imagesPerSecond: real }), { maxLength: 16 }),
    /** The precision and compile in effect from now on. */
    precision: literal('float32', 'float16', 'bfloat16'),
    compiled: boolean,
  },
  /**
   * The run's length, measured on its first steps where it is long enough to matter (plain TF.js,
   * which computes in JavaScript): said once, with what would make it faster, so the user can stop.
   */
  estimate: {
    seconds: real,
    secondsPerStep: real,
    steps: count,
    advice: string({ maxLength: 1000 }),
  },
  progress: {
    epoch: count,
    epochs: count,
    step: count,
    steps: count,
    loss: real,
    /** Every step's loss since the previous progress event, this step's last: reports come twice a second, steps faster. */
    losses: optional(array(real, { maxLength: 1_000_000 })),
    imagesPerSecond: real,
    lr: real,
    etaSeconds: real,
  },
  epoch: { epoch: count, trainLoss: real, validLoss: nullable(real), validAccuracy: nullable(real), seconds: real },
  checkpoint: { path: string({ maxLength: 4096 }), best: boolean, message: nullable(string({ maxLength: 500 })) },
  test: testReport,
  samples: sampleImages,
  done: { status: literal('completed', 'cancelled'), runDir: string({ maxLength: 4096 }), seconds: real },
  error: { message: string({ maxLength: 4000 }), detail: nullable(string({ maxLength: 20_000 })) },
});

export type TrainerEvent = Infer<typeof trainerEvent>;

export type TrainerCommand = { type: 'stop' } | { type: 'pause' } | { type: 'resume' };

/** The datasets the engines know by name (src/trainer/cnn_lab_engine/datasets.py's load_dataset); any other value is an image folder. */
export const datasetIds = ['synthetic', 'mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetId = (typeof datasetIds)[number];

export const isDatasetId = (value: string): value is DatasetId => (datasetIds as readonly string[]).includes(value);

const whole = (min: number, max: number) => number({ integer: true, min, max });

/** Whole sets of settings (presets.ts): the lesson's own recipe, or the one that reaches its accuracy soonest. */
export const presetIds = ['course', 'fast'] as const;
export type PresetId = (typeof presetIds)[number];

/** Everything about a run but the model file: what a settings file (cnn-lab.json) may give. */
const settingsShape = {
  /** Settings taken from a preset, under the ones given explicitly; null: none. */
  preset: nullable(literal(...presetIds)),
  className: string({ minLength: 1, maxLength: 200 }),
  /** A name from datasetIds, or the path of an image folder with one sub-folder per class. */
  dataset: string({ minLength: 1, maxLength: 4096 }),
  dataDir: nullable(string({ maxLength: 4096 })),
  epochs: whole(1, 10_000),
  /** Images per step on each device; null: the engine chooses (larger on the fast path and on GPUs). */
  batchSize: nullable(whole(1, 65_536)),
  lr: number({ above: 0 }),
  optimizer: literal('sgd', 'adam', 'adamw'),
  momentum: number({ min: 0, max: 1 }),
  weightDecay: number({ min: 0 }),
  validSplit: number({ min: 0, max: 0.9 }),
  seed: whole(0, 2 ** 31 - 1),
  device: literal('auto', 'cpu', 'cuda'),
  /** On CUDA: bfloat16 (float16 with a gradient scaler where bfloat16 is missing) where it is safe, via
   * torch.autocast. null: on with the fast path. Ignored on other devices. */
  mixedPrecision: nullable(boolean),
  /** Datasets that fit are loaded once onto the training device as uint8 and batched, normalized and
   * augmented there; false: a DataLoader with per-image torchvision transforms, as the course does. */
  fastPath: boolean,
  /** torch.compile the model (PyTorch 2 only). */
  compile: boolean,
  /** Processes (GPUs, or CPU processes) per machine; more than 1 runs under torchrun with DistributedDataParallel. */
  devices: whole(1, 1024),
  /** Machines taking part; more than 1 needs a rendezvous endpoint that every machine reaches. */
  nodes: whole(1, 1024),
  /** HOST:PORT of the rendezvous (torchrun's --rdzv-endpoint) when training on several machines. */
  rendezvous: nullable(string({ minLength: 1, maxLength: 300 })),
  /** Applied to training batches only: horizontal flips, rotation within ±degrees, crops with padding. */
  augment: nullable(object({ flip: optional(boolean), rotation: optional(number({ min: 0, max: 180 })), cropPadding: optional(whole(0, 64)) })),
  /** 'dataset': the training set's mean and std per channel; 'none': pixels in [0, 1]; a number v: (x − v) / v. */
  normalize: union(literal('dataset', 'none'), number({ above: 0, max: 1 })),
  schedule: literal('none', 'step', 'cosine', 'onecycle'),
  /** Image folders only: the side images are resized to; null keeps the first image's size. */
  imageSize: nullable(whole(4, 1024)),
};

/** Where a run's model came from when it was defined in a notebook: the notebook, the cells written into the run's module, and their text's hash. */
export const notebookSource = object({
  path: string({ minLength: 1, maxLength: 4096 }),
  cells: array(whole(0, 10_000_000), { maxLength: 100_000 }),
  sha256: string({ minLength: 64, maxLength: 64 }),
});
export type NotebookSource = Infer<typeof notebookSource>;

/** What a run trains, and how: written to the run folder as config.json, and read by the engine. */
export const trainingConfig = object({ modelFile: string({ minLength: 1, maxLength: 4096 }), ...settingsShape, notebook: optional(notebookSource) });
export type TrainingConfig = Infer<typeof trainingConfig>;

/** A settings file: any of the fields, the model file relative to the file's folder. */
export const trainingSettings = object({ modelFile: optional(string({ minLength: 1, maxLength: 4096 })), ...partial(settingsShape) });
export type TrainingSettings = Infer<typeof trainingSettings>;

/** What the schema cannot say: a rule between fields, in words naming the field; undefined when none is broken. */
export function settingsProblem(settings: TrainingSettings): string | undefined {
  if ((settings.nodes ?? 1) > 1 && !settings.rendezvous) return 'rendezvous: training on several machines needs the HOST:PORT of a rendezvous every machine reaches (torchrun\'s --rdzv-endpoint)';
  return undefined;
}

/** What a run uses unless the user says otherwise: the course's MNIST settings with Adam, on the synthetic set. */
export const trainingDefaults: Omit<TrainingConfig, 'modelFile'> = {
  preset: null,
  className: 'Net',
  dataset: 'synthetic',
  dataDir: null,
  epochs: 2,
  batchSize: null,
  lr: 0.001,
  optimizer: 'adam',
  momentum: 0.9,
  weightDecay: 0,
  validSplit: 0.2,
  seed: 1,
  device: 'auto',
  mixedPrecision: null,
  fastPath: true,
  compile: false,
  devices: 1,
  nodes: 1,
  rendezvous: null,
  augment: null,
  normalize: 'dataset',
  schedule: 'none',
  imageSize: null,
};
