// The course's MNIST MLP in TensorFlow.js and TypeScript: 28x28 grey digits (NHWC), 10 classes.
import * as tf from '@tensorflow/tfjs';

export function buildModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tf.layers.dropout({ rate: 0.2 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
