// Every tf.layers factory of the installed TF.js that the analysis has a rule for, built by TF.js
// and compared with the rule: output shape and parameters (total and trainable), on several
// configs and inputs each. A factory the rules know but this catalogue does not list fails it, so
// a rule cannot be added without its check.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildTfjsLayer, computeTfjsOutputShape, tfjsParamCount, tfjsWeightShapes } from '../../src/core/analysis/tfjsLayers';

type Case = { config: Record<string, unknown>; input: number[] };

const image = [9, 8, 3];
const sequence = [7, 4];
const identity = (config: Record<string, unknown> = {}): Case[] => [{ config, input: image }, { config, input: sequence }];

const catalogue: Record<string, Case[]> = {
  conv2d: [
    { config: { filters: 4, kernelSize: 3 }, input: image },
    { config: { filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same' }, input: image },
    { config: { filters: 5, kernelSize: 2, dilationRate: 2, useBias: false }, input: image },
  ],
  conv2dTranspose: [
    { config: { filters: 4, kernelSize: 3, strides: 2 }, input: [5, 6, 2] },
    { config: { filters: 3, kernelSize: [2, 3], strides: 2, padding: 'same' }, input: [5, 6, 2] },
    { config: { filters: 2, kernelSize: 4, useBias: false }, input: [5, 6, 2] },
  ],
  conv1d: [
    { config: { filters: 4, kernelSize: 3 }, input: [10, 3] },
    { config: { filters: 2, kernelSize: 3, strides: 2, padding: 'same' }, input: [10, 3] },
  ],
  maxPooling2d: [
    { config: { poolSize: 2 }, input: image },
    { config: { poolSize: 3, strides: 2, padding: 'same' }, input: image },
  ],
  averagePooling2d: [{ config: { poolSize: [2, 3] }, input: image }],
  maxPooling1d: [
    { config: { poolSize: 2 }, input: [10, 3] },
    { config: { poolSize: 3, strides: 1 }, input: [10, 3] },
  ],
  averagePooling1d: [{ config: { poolSize: 2, padding: 'same' }, input: [9, 3] }],
  globalAveragePooling2d: [{ config: {}, input: image }],
  globalMaxPooling2d: [{ config: {}, input: image }],
  globalAveragePooling1d: [{ config: {}, input: sequence }],
  globalMaxPooling1d: [{ config: {}, input: sequence }],
  upSampling2d: [
    { config: {}, input: image },
    { config: { size: [2, 3] }, input: image },
  ],
  dense: [
    { config: { units: 5 }, input: [7] },
    { config: { units: 3, useBias: false }, input: sequence },
  ],
  embedding: [{ config: { inputDim: 10, outputDim: 4 }, input: [6] }],
  simpleRNN: [
    { config: { units: 5 }, input: sequence },
    { config: { units: 3, returnSequences: true }, input: sequence },
  ],
  lstm: [
    { config: { units: 5 }, input: sequence },
    { config: { units: 3, returnSequences: true }, input: sequence },
  ],
  gru: [
    { config: { units: 5 }, input: sequence },
    { config: { units: 3, returnSequences: true }, input: sequence },
  ],
  repeatVector: [{ config: { n: 3 }, input: [5] }],
  flatten: [{ config: {}, input: image }],
  batchNormalization: [
    { config: {}, input: image },
    { config: { center: false }, input: sequence },
  ],
  layerNormalization: [
    { config: {}, input: sequence },
    { config: { scale: false }, input: image },
  ],
  reshape: [{ config: { targetShape: [6, 2] }, input: [3, 4] }],
  dropout: identity({ rate: 0.5 }),
  activation: identity({ activation: 'relu' }),
  spatialDropout1d: [{ config: { rate: 0.5 }, input: sequence }],
  gaussianNoise: identity({ stddev: 1 }),
  gaussianDropout: identity({ rate: 0.5 }),
  alphaDropout: identity({ rate: 0.5 }),
  reLU: identity(),
  leakyReLU: identity(),
  elu: identity(),
  softmax: identity(),
  thresholdedReLU: identity(),
};

/** The layer as TF.js builds it on a sample of `input`, and the trainable part of its parameters. */
function built(factory: string, { config, input }: Case): { shape: (number | null)[]; params: number; trainable: number; weights: { name: string; shape: number[] }[] } {
  const make = (tf.layers as unknown as Record<string, (c: object) => tf.layers.Layer>)[factory];
  assert.ok(make, `tf.layers.${factory}`);
  const model = tf.sequential({ layers: [make({ ...config, inputShape: input })] });
  const layer = model.layers[0] as tf.layers.Layer;
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  // Its weights in layer.weights order, as model.setWeights and model.json take them: TF.js's name after the layer's.
  const weights = layer.weights.map((w) => ({ name: w.originalName.slice(w.originalName.lastIndexOf('/') + 1), shape: w.shape as number[] }));
  return { shape: (layer.outputShape as (number | null)[]).map((d) => d ?? 1), params: layer.countParams(), trainable: layer.trainableWeights.reduce((n, w) => n + size(w.shape as number[]), 0), weights };
}

describe('tf.layers against the analysis', () => {
  it('lists every factory that has a rule', () => {
    const factories = Object.keys(tf.layers).filter((name) => typeof (tf.layers as unknown as Record<string, unknown>)[name] === 'function');
    const withRules = factories.filter((factory) => {
      try {
        return buildTfjsLayer(factory, catalogue[factory]?.[0]?.config ?? {}) !== null;
      } catch {
        // A rule that needs a config this catalogue does not give still has a rule.
        return true;
      }
    });
    assert.deepEqual(withRules.filter((f) => !(f in catalogue)), []);
  });

  for (const [factory, cases] of Object.entries(catalogue)) {
    it(`tf.layers.${factory}: output shape, parameters, trainable parameters and weights in order`, () => {
      for (const example of cases) {
        const spec = buildTfjsLayer(factory, example.config);
        assert.ok(spec, `a rule for ${factory}`);
        const input = [1, ...example.input];
        const ours = computeTfjsOutputShape(spec, factory, input);
        const counts = tfjsParamCount(spec, input);
        const theirs = built(factory, example);
        assert.deepEqual({ shape: ours.shape, params: counts?.total, trainable: counts?.trainable, weights: tfjsWeightShapes(spec, input) }, theirs, `${factory} ${JSON.stringify(example)}`);
      }
    });
  }
});
