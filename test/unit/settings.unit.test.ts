// cnn-lab.json: read, written and described by its JSON schema, all in step with the run config.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainingDefaults, trainingSettings } from '../../src/core/protocol/trainer';
import { safeParse } from '../../src/core/schema';
import { readSettings, SettingsError, writeSettings } from '../../src/core/training/settings';

const schema = JSON.parse(readFileSync(resolve(__dirname, '../../media/cnn-lab.schema.json'), 'utf8')) as { properties: Record<string, { enum?: unknown[] }> };

describe('cnn-lab.json', () => {
  it('is written with paths relative to its folder, model first, and read back with absolute ones', () => {
    const folder = mkdtempSync(join(tmpdir(), 'cnnlab-settings-'));
    mkdirSync(join(folder, 'images'));
    const path = join(folder, 'cnn-lab.json');
    writeSettings(path, { ...trainingDefaults, modelFile: join(folder, 'models', 'net.py'), dataset: join(folder, 'images'), dataDir: join(folder, 'data') });
    const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(written).slice(0, 3), ['modelFile', 'className', 'dataset']);
    assert.deepEqual([written['modelFile'], written['dataset'], written['dataDir']], ['models/net.py', 'images', 'data']);
    const read = readSettings(path);
    assert.deepEqual([read.modelFile, read.dataset, read.dataDir, read.epochs], [join(folder, 'models', 'net.py'), join(folder, 'images'), join(folder, 'data'), trainingDefaults.epochs]);
    // A named dataset is a name, not a path.
    writeFileSync(path, JSON.stringify({ dataset: 'mnist' }));
    assert.deepEqual(readSettings(path), { dataset: 'mnist' });
    assert.deepEqual(readSettings(join(folder, 'absent.json')), {});
  });

  it('refuses a wrong value or broken JSON with a message that names the field', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cnnlab-settings-')), 'cnn-lab.json');
    const problems: [string, RegExp][] = [
      [JSON.stringify({ epochs: 0 }), /cnn-lab\.json: epochs: 0 is outside \[1, 10000\]$/],
      [JSON.stringify({ normalize: 'mean' }), /cnn-lab\.json: normalize: expected "dataset" or "none", got string "mean"; or expected a number/],
      [JSON.stringify({ augment: { mirror: true } }), /cnn-lab\.json: augment: unexpected field "mirror"$/],
      [JSON.stringify({ learningRate: 0.1 }), /cnn-lab\.json: unexpected field "learningRate"$/],
      ['{ "epochs": 2, }', /cnn-lab\.json is not valid JSON: /],
      [JSON.stringify({ devices: 2, nodes: 2 }), /cnn-lab\.json: rendezvous: training on several machines needs the HOST:PORT/],
    ];
    for (const [text, message] of problems) {
      writeFileSync(path, text);
      assert.throws(() => readSettings(path), (error: Error) => error instanceof SettingsError && message.test(error.message));
    }
  });

  it('has a JSON schema with exactly the settings the engine reads, and the same choices', () => {
    assert.deepEqual(Object.keys(schema.properties).sort(), ['modelFile', ...Object.keys(trainingDefaults)].sort());
    for (const [key, property] of Object.entries(schema.properties)) {
      for (const value of property.enum ?? []) assert.ok(safeParse(trainingSettings, { [key]: value }).ok, `${key}: ${String(value)}`);
    }
    assert.deepEqual(schema.properties['optimizer']?.enum, ['sgd', 'adam', 'adamw']);
    assert.ok(!safeParse(trainingSettings, { schedule: 'linear' }).ok);
  });
});
