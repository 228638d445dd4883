// Presets: whole sets of training settings, by rules on the data and the device, never on the
// model's name. `course` is the lesson's own recipe, to reproduce its results; `fast` reaches the
// course's accuracy soonest. Explicit settings (cnn-lab.json's other keys, command-line options)
// override what a preset sets; config.json records both the preset and every value it chose.
import { type PresetId, type TrainingSettings } from '../protocol/trainer';

export interface PresetContext {
  /** A dataset id, or an image folder's path. */
  dataset: string;
  /** Where the run will train: a GPU takes larger batches. */
  device: 'cpu' | 'cuda' | 'mps';
}

/** Where a run trains: the device the settings name, else what PyTorch sees (a GPU, Apple's MPS, the CPU). */
export function trainingDevice(setting: TrainingSettings['device'], torch: { cudaDevices: readonly string[]; mps: boolean } | null | undefined): PresetContext['device'] {
  if (setting && setting !== 'auto') return setting;
  return torch?.cudaDevices.length ? 'cuda' : torch?.mps ? 'mps' : 'cpu';
}

/** The course's greyscale digit sets (28×28, one channel); everything else is read as colour photos, as CIFAR-10 is. */
const greyscale = new Set(['mnist', 'fashion-mnist', 'synthetic']);

/** What a preset sets. The rules, in words: */
export function presetSettings(preset: PresetId, { dataset, device }: PresetContext): TrainingSettings {
  const grey = greyscale.has(dataset);
  if (preset === 'course') {
    // The lessons: SGD at 0.01 on batches of 20 in float32; the MLP on raw pixels (ToTensor alone)
    // for 50 epochs, the CIFAR CNN with flips and 10° rotations, normalized by 0.5, for 30.
    return {
      optimizer: 'sgd',
      lr: 0.01,
      momentum: 0,
      weightDecay: 0,
      batchSize: 20,
      schedule: 'none',
      mixedPrecision: false,
      validSplit: 0.2,
      ...(grey ? { normalize: 'none', augment: null, epochs: 50 } : { normalize: 0.5, augment: { flip: true, rotation: 10 }, epochs: 30 }),
    };
  }
  // Fast, measured on the real MNIST and CIFAR-10 (npm run bench:accuracy): SGD with momentum 0.9 on a
  // one-cycle schedule (its own warm-up) peaking at 0.05 per 128 images of batch (linear scaling; the
  // CIFAR CNN reached 77.2 % in 7 epochs at 0.05 and 76.6 % at 0.1, the MLP 98.2 % at 0.1 with 256),
  // weight decay 5e-4, the data's own normalization. The batch keeps the device busy: 512 on a GPU; on a CPU 256 for digits (an MLP's
  // matrix products run 17,000 images/s there against 15,000 at 128) and 128 for photos (a CNN's
  // convolutions run no faster in larger batches, and more steps learn more per epoch). Photos are
  // flipped, never cropped: crops pay over long runs only (the CIFAR CNN on a CPU reached 71.9 % in 6
  // epochs with them, 75.8 % without). Digits are neither. Epochs: what reaches the course's accuracy
  // (98 %, 76 %) on that device.
  const gpu = device === 'cuda';
  const batchSize = gpu ? 512 : grey ? 256 : 128;
  return {
    optimizer: 'sgd',
    momentum: 0.9,
    weightDecay: 5e-4,
    batchSize,
    lr: (0.05 * batchSize) / 128,
    schedule: 'onecycle',
    mixedPrecision: null,
    normalize: 'dataset',
    validSplit: 0.1,
    ...(grey ? { augment: null, epochs: 4 } : { augment: { flip: true }, epochs: gpu ? 20 : 7 }),
  };
}

/**
 * What the preset named in `layers` (the settings file's, then the options', later ones winning)
 * sets for their dataset: to be spread under those layers, so that what they give explicitly wins.
 */
export function presetLayer(layers: readonly TrainingSettings[], device: PresetContext['device'], defaultDataset: string): TrainingSettings {
  const merged: TrainingSettings = Object.assign({}, ...layers);
  return merged.preset ? { ...presetSettings(merged.preset, { dataset: merged.dataset ?? defaultDataset, device }), preset: merged.preset } : {};
}

/** `settings` without the keys `layer` sets: a preset picked in the Train command wins over what an earlier run wrote into cnn-lab.json. */
export function withoutKeysOf(settings: TrainingSettings, layer: TrainingSettings): TrainingSettings {
  return Object.fromEntries(Object.entries(settings).filter(([key]) => !Object.hasOwn(layer, key))) as TrainingSettings;
}
