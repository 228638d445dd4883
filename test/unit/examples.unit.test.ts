// The example project's pieces: each example's model analyses cleanly with the shapes the course
// gives, its cnn-lab.json round-trips, and training finds the cnn-lab.json nearest the model.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { examples } from '../../src/core/examples';
import { readSettings, settingsFileFor, writeSettings } from '../../src/core/training/settings';
import { analyzePythonSource } from './support/analysis';

const repo = resolve(__dirname, '../..');

describe('example project', () => {
  it('has four examples, each a model file of the repository with settings that read back as written', () => {
    assert.deepEqual(examples.map((e) => e.folder), ['mnist_mlp', 'cifar_cnn', 'fixed_filters', 'tfjs_cnn']);
    const dir = mkdtempSync(join(tmpdir(), 'cnn-lab-examples-'));
    for (const example of examples) {
      assert.ok(readFileSync(join(repo, 'examples', example.file), 'utf8').length > 100, example.file);
      const path = join(dir, `${example.folder}.json`);
      writeSettings(path, example.settings);
      assert.deepEqual(readSettings(path), { ...example.settings, modelFile: join(dir, example.file) });
    }
  });

  it('analyses the PyTorch examples without a problem, with the shapes the course gives', async () => {
    const shapes: Record<string, [string, number[], number[] | null]> = {
      'mnist_mlp.py': ['Net', [1, 784], [1, 10]], // its first layer says 784 inputs; forward flattens 28×28 to them
      'cifar_cnn.py': ['Net', [1, 3, 32, 32], [1, 10]],
      'fixed_filters.py': ['FixedFilterNet', [1, 1, 28, 28], [1, 10]],
    };
    for (const [file, [name, input, output]] of Object.entries(shapes)) {
      const [model, ...others] = await analyzePythonSource(readFileSync(join(repo, 'examples', file), 'utf8'));
      assert.equal(others.length, 0, file);
      assert.deepEqual([model?.name, model?.input, model?.output, model?.diagnostics], [name, input, output, []], file);
    }
  });

  it('trains a model with the cnn-lab.json nearest it, up to the workspace folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'cnn-lab-nearest-'));
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    assert.equal(settingsFileFor(join(root, 'a', 'b', 'model.py'), root), join(root, 'cnn-lab.json'), 'none yet: the workspace folder\'s');
    writeFileSync(join(root, 'cnn-lab.json'), '{}');
    writeFileSync(join(root, 'a', 'cnn-lab.json'), '{}');
    assert.equal(settingsFileFor(join(root, 'a', 'b', 'model.py'), root), join(root, 'a', 'cnn-lab.json'));
    writeFileSync(join(root, 'a', 'b', 'cnn-lab.json'), '{}');
    assert.equal(settingsFileFor(join(root, 'a', 'b', 'model.py'), root), join(root, 'a', 'b', 'cnn-lab.json'));
    assert.equal(settingsFileFor(join(root, 'model.py'), root), join(root, 'cnn-lab.json'));
    // A folder beside the workspace whose name starts the same is not inside it.
    assert.equal(settingsFileFor(join(`${root}x`, 'model.py'), root), join(root, 'cnn-lab.json'));
  });
});
