// TF.js models against TF.js itself: each fixture is bundled with esbuild, built with
// @tensorflow/tfjs, and its layers' output shapes and countParams() compared with the analysis.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';
import { analysisOf, analyzeTypescriptSource, tfjsTruth } from './support/tfjs';

const repo = resolve(__dirname, '../..');
const fixtures = resolve(repo, 'test/fixtures/tfjs');
/** The fixtures and the TF.js example, as paths from the repository root. */
const modelFiles = [...readdirSync(fixtures).filter((f) => f.endsWith('.ts')).map((f) => `test/fixtures/tfjs/${f}`), 'examples/tfjs_mnist_cnn.js'];

describe('TF.js models against TF.js', () => {
  for (const file of modelFiles) {
    it(`${file}: every layer's output shape and parameters, and the trainable and total counts, as TF.js builds them`, async () => {
      const [model] = await analyzeTypescriptSource(readFileSync(join(repo, file), 'utf8'));
      assert.ok(model, 'the model is found');
      assert.deepEqual(analysisOf(model), tfjsTruth(file));
      assert.deepEqual(model.diagnostics, []);
      assert.equal(model.name, 'buildModel');
    });
  }
});

describe('TF.js mistakes', () => {
  const analyze = analyzeTypescriptSource;
  const sequential = (...layers: string[]) => `import * as tf from '@tensorflow/tfjs';\nconst model = tf.sequential();\n${layers.map((l) => `model.add(tf.layers.${l});`).join('\n')}\n`;

  it('says the first layer needs inputShape, and uses the default input meanwhile', async () => {
    const [model] = await analyze(sequential('dense({units: 4})'));
    assert.equal(model?.name, 'model');
    assert.deepEqual(model?.input, [1, 32, 32, 3]);
    assert.match(model?.diagnostics[0]?.message ?? '', /^The first layer of a tf.sequential model needs inputShape/);
  });

  it('names a conv2d that receives a flattened tensor, and a window larger than the image', async () => {
    const [flat] = await analyze(sequential('flatten({inputShape: [8, 8, 1]})', 'conv2d({filters: 2, kernelSize: 3})'));
    assert.deepEqual(flat?.diagnostics.map((d) => d.message), ['conv2d_1: tf.layers.conv2d expects a 4-dimensional input [batch, height, width, channels] but receives 2 dimensions']);
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
