// TF.js models against TF.js itself: each fixture is bundled with esbuild, built with
// @tensorflow/tfjs, and its layers' output shapes and countParams() compared with the analysis.
import * as assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import type * as tfTypes from '@tensorflow/tfjs';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';

const fixtures = resolve(__dirname, '../fixtures/tfjs');
// Inside the repository, so that the bundles resolve @tensorflow/tfjs from its node_modules.
const out = resolve(__dirname, '../../.test-output/tfjs');
mkdirSync(out, { recursive: true });

/** The fixtures and the TF.js example, as paths from the repository root. */
const repo = resolve(__dirname, '../..');
const modelFiles = [...readdirSync(fixtures).filter((f) => f.endsWith('.ts')).map((f) => `test/fixtures/tfjs/${f}`), 'examples/tfjs_mnist_cnn.js'];

function buildWithTfjs(file: string): tfTypes.LayersModel {
  const bundle = join(out, `${file.replace(/\//g, '_')}.cjs`);
  buildSync({ entryPoints: [join(repo, file)], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, external: ['@tensorflow/tfjs'], logLevel: 'silent' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(bundle) as { buildModel(): tfTypes.LayersModel }).buildModel();
}

const concrete = (shape: (number | null)[]) => shape.map((d) => d ?? 1);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('TF.js models against TF.js', () => {
  for (const file of modelFiles) {
    it(`${file}: every layer's output shape and parameters, and the trainable and total counts, as TF.js builds them`, async () => {
      const truth = buildWithTfjs(file);
      const parser = (await loadGrammars(wasmDir)).parser('typescript');
      const tree = parser.parse(readFileSync(join(repo, file), 'utf8'));
      assert.ok(tree);
      const [model] = analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript');
      tree.delete();
      assert.ok(model, 'the model is found');
      const layers = truth.layers.filter((l) => l.getClassName() !== 'InputLayer');
      assert.deepEqual(
        model.layers.map((l) => [l.type, l.out, l.params]),
        layers.map((l) => [l.getClassName().replace(/^[A-Z]/, (c) => c.toLowerCase()).replace('globalMaxPooling2D', 'globalMaxPooling2d').replace('globalAveragePooling2D', 'globalAveragePooling2d').replace(/2D$/, '2d'), concrete(l.outputShape as (number | null)[]), l.countParams()]),
      );
      assert.deepEqual(model.output, concrete(truth.outputs[0]?.shape ?? []));
      assert.equal(model.totalParams, truth.countParams());
      assert.equal(model.trainableParams, truth.trainableWeights.reduce((sum, w) => sum + size(w.shape as number[]), 0));
      assert.deepEqual(model.diagnostics, []);
      assert.equal(model.name, 'buildModel');
    });
  }
});

describe('TF.js mistakes', () => {
  const analyze = async (source: string) => {
    const tree = (await loadGrammars(wasmDir)).parser('typescript').parse(source);
    assert.ok(tree);
    const reports = analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript');
    tree.delete();
    return reports;
  };
  const sequential = (...layers: string[]) => `import * as tf from '@tensorflow/tfjs';\nconst model = tf.sequential();\n${layers.map((l) => `model.add(tf.layers.${l});`).join('\n')}\n`;

  it('says the first layer needs inputShape, and uses the default input meanwhile', async () => {
    const [model] = await analyze(sequential('dense({units: 4})'));
    assert.equal(model?.name, 'model');
    assert.deepEqual(model?.input, [1, 32, 32, 3]);
    assert.match(model?.diagnostics[0]?.message ?? '', /^The first layer of a tf.sequential model needs inputShape/);
  });

  it('names a conv2d that receives a flattened tensor, and a window larger than the image', async () => {
    const [flat] = await analyze(sequential('flatten({inputShape: [8, 8, 1]})', 'conv2d({filters: 2, kernelSize: 3})'));
    assert.deepEqual(flat?.diagnostics.map((d) => d.message), ['conv2d_1: tf.layers.conv2d expects a 4-dimensional input [batch, height, width, channels] (a conv2d) but receives 2 dimensions']);
    const [small] = await analyze(sequential('conv2d({inputShape: [4, 4, 1], filters: 2, kernelSize: 5})'));
    assert.deepEqual(small?.diagnostics.map((d) => d.message), ['conv2d_1: tf.layers.conv2d shrinks 4×4 below 1']);
  });

  it('reads 300 mutated TF.js files without throwing', async () => {
    const parser = (await loadGrammars(wasmDir)).parser('typescript');
    const sources = readdirSync(fixtures).map((f) => readFileSync(join(fixtures, f), 'utf8'));
    let seed = 11;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 300; i++) {
      const text = sources[i % sources.length] ?? '';
      const at = Math.floor(next() * text.length);
      const mutated = next() < 0.5 ? text.slice(0, at) : text.slice(0, at) + ['(', '})', ', [', 'tf.layers.', '\n'][i % 5] + text.slice(at + Math.floor(next() * 20));
      const tree = parser.parse(mutated);
      assert.ok(tree);
      assert.ok(Array.isArray(analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript')));
      tree.delete();
    }
  });
});
