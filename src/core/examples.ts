// The course's examples as "CNN Lab: Create Example Project" writes them: each in its own folder
// with the model file and the cnn-lab.json that trains it.
import type { TrainingSettings } from './protocol/trainer';

export interface Example {
  /** The folder it gets in the project. */
  folder: string;
  /** Its file in the extension's dist/examples (copied there from examples/ by the build). */
  file: string;
  settings: TrainingSettings;
}

export const examples: readonly Example[] = [
  { folder: 'mnist_mlp', file: 'mnist_mlp.py', settings: { modelFile: 'mnist_mlp.py', className: 'Net', dataset: 'mnist', epochs: 5, optimizer: 'sgd', lr: 0.01, momentum: 0, batchSize: 20, normalize: 'none' } },
  { folder: 'cifar_cnn', file: 'cifar_cnn.py', settings: { modelFile: 'cifar_cnn.py', className: 'Net', dataset: 'cifar10', epochs: 30, optimizer: 'sgd', lr: 0.01, momentum: 0, batchSize: 20, normalize: 0.5, augment: { flip: true, rotation: 10 } } },
  { folder: 'fixed_filters', file: 'fixed_filters.py', settings: { modelFile: 'fixed_filters.py', className: 'FixedFilterNet', dataset: 'mnist', epochs: 2 } },
  { folder: 'tfjs_cnn', file: 'tfjs_mnist_cnn.js', settings: { modelFile: 'tfjs_mnist_cnn.js', className: 'buildModel', dataset: 'mnist', epochs: 3 } },
];
