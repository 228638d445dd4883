// A TF.js model.json against a TF.js model file, as model.setWeights takes the weights: the model.json
// saved by TF.js itself from one model, then the model file changed as users change it (filters
// widened, a layer added or removed, a bias dropped); what the analysis says, statically, against
// what TF.js does when the changed model is built and given the saved weights.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { loadGrammars, type Parser } from '../../src/core/analysis/syntax';
import { readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { checkStateDict, formatStateDictCheck, formatStateDictTable, stateDictTable } from '../../src/core/checkpoints/stateDictCheck';
import { wasmDir } from './support/analysis';

/** The course's MNIST CNN in the script-tag build's style, its parts to change. */
const model = ({ filters = 16, units = 64, norm = false, second = true, bias = true } = {}) => `
function buildModel() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: ${filters}, kernelSize: 3, activation: 'relu', useBias: ${bias} }));
  ${norm ? 'model.add(tf.layers.batchNormalization());' : ''}
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  ${second ? "model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu' }));" : ''}
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: ${units}, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}
`;

const variants: [string, string][] = [
  ['the same model', model()],
  ['conv filters widened', model({ filters: 32 })],
  ['a dense layer narrowed', model({ units: 32 })],
  ['batch normalization added', model({ norm: true })],
  ['the second conv removed', model({ second: false })],
  ['the first conv without a bias', model({ bias: false })],
];

const build = (source: string) => new Function('tf', `${source}\nreturn buildModel();`)(tf) as tf.LayersModel;

describe('a TF.js model.json against a TF.js model file, as model.setWeights takes it', function () {
  this.timeout(120_000);
  let dir: string;
  let parser: Parser;

  before(async () => {
    parser = (await loadGrammars(wasmDir)).parser('typescript');
    dir = mkdtempSync(join(tmpdir(), 'cnn-lab-tfjs-weights-'));
    // TF.js saves it: model.json's topology and manifest, the weights in weights.bin.
    await build(model()).save(
      tf.io.withSaveHandler(async (artifacts) => {
        writeFileSync(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, source] of variants) {
    it(`${name}: takes or refuses the weights as TF.js does, in its words`, () => {
      const tree = parser.parse(source);
      assert.ok(tree);
      const [report] = analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript');
      tree.delete();
      assert.ok(report?.complete, 'the model is known whole');
      const checkpoint = readCheckpoint(join(dir, 'model.json'));
      const check = checkStateDict(report, checkpoint);
      // TF.js itself: the changed model built, the saved weights handed to setWeights in the file's order.
      const weights = checkpoint.layers.flatMap((l) => l.parameters).map((p) => tf.tensor(Array.from(p.values()), p.shape));
      let thrown: string | undefined;
      try {
        build(source).setWeights(weights);
      } catch (error) {
        thrown = (error as Error).message;
      }
      assert.equal(check.known, true);
      assert.equal(check.loads, thrown === undefined, `analysis: ${formatStateDictCheck(check)}\nTF.js: ${thrown ?? 'takes them'}`);
      const text = formatStateDictCheck(check);
      if (thrown === undefined) assert.match(text, /model\.json: 8 weights, all match buildModel \(.* values\): model\.setWeights takes them$/);
      // TF.js throws at the first difference; the analysis lists it among all of them, in TF.js's words.
      // (The model's own name is TF.js's per-session `sequential_N`; the analysis names it by its function.)
      else {
        const words = thrown.replace(/ Provided weights: .*/s, '').replace(/on layer "[^"]*"/, 'on layer "buildModel"');
        assert.ok(text.includes(words), `${words}\nnot in\n${text}`);
      }
    });
  }

  it('lists the weights in order beside the file\'s, as Check Against Model… shows them; a .pt is not compared with a TF.js model', () => {
    const tree = parser.parse(model({ norm: true }));
    assert.ok(tree);
    const [report] = analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript');
    tree.delete();
    assert.ok(report);
    const table = stateDictTable(report, readCheckpoint(join(dir, 'model.json')));
    assert.deepEqual(table.rows.slice(0, 4).map((r) => `${r.key} ${JSON.stringify(r.checkpoint)} ${JSON.stringify(r.model)} ${r.status}`), [
      'conv2d_1/kernel [3,3,1,16] [3,3,1,16] match',
      'conv2d_1/bias [16] [16] match',
      'batchNormalization_1/gamma [3,3,16,8] [16] size mismatch',
      'batchNormalization_1/beta [8] [16] size mismatch',
    ]);
    assert.equal(table.rows.length, 12);
    assert.match(formatStateDictTable(table, 'buildModel in model.js', 'model.json'), /^model\.setWeights would throw: 4 missing, \d+ of another size\.$/m);
    const pytorch = { ...readCheckpoint(join(dir, 'model.json')), format: 'PyTorch' as const };
    assert.deepEqual(stateDictTable(report, pytorch).rows, []);
    assert.match(formatStateDictTable(stateDictTable(report, pytorch), 'buildModel', 'x.pt'), /buildModel is a TF\.js model: it is checked against a TF\.js model\.json/);
  });
});
