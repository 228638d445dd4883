// The analysis against PyTorch's own answers (test/fixtures/models/expected.json, made by
// ground_truth.py with forward hooks): every model's input, output and parameter count, and every
// leaf layer's output shape and parameters under the qualified name named_modules() gives it.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzePythonSource } from './support/analysis';

interface Expected {
  torch: string;
  models: Record<string, Record<string, { input: number[]; output: number[]; totalParams: number; layers: { name: string; type: string; out: number[] | null; params: number }[] }>>;
}

const repo = resolve(__dirname, '../..');
const expected = JSON.parse(readFileSync(resolve(repo, 'test/fixtures/models/expected.json'), 'utf8')) as Expected;

describe(`shapes and parameters against PyTorch ${expected.torch}`, () => {
  for (const [file, models] of Object.entries(expected.models)) {
    for (const [name, truth] of Object.entries(models)) {
      describe(`${file}: ${name}`, () => {
        let model: Awaited<ReturnType<typeof analyzePythonSource>>[number];

        before(async () => {
          const found = (await analyzePythonSource(readFileSync(resolve(repo, file), 'utf8'))).find((m) => m.name === name);
          assert.ok(found, `${name} is analysed`);
          model = found;
        });

        it(`takes ${truth.input.join('×')} and gives ${truth.output.join('×')}`, () => {
          assert.deepEqual(model.input, truth.input);
          assert.deepEqual(model.output, truth.output, model.outputNote);
        });

        it(`counts ${truth.totalParams.toLocaleString('en')} parameters, the sum of its layers'`, () => {
          assert.equal(model.totalParams, truth.totalParams);
          assert.equal(model.trainableParams, truth.totalParams);
          assert.equal(model.layers.reduce((sum, l) => sum + l.params, 0), truth.totalParams);
        });

        it(`gives each of its ${truth.layers.length} layers PyTorch's name, type, output shape and parameters`, () => {
          const actual = new Map(model.layers.map((l) => [l.name, { name: l.name, type: l.type, out: l.out, params: l.params }]));
          for (const layer of truth.layers) assert.deepEqual(actual.get(layer.name), layer);
          assert.equal(model.layers.length, truth.layers.length);
          assert.deepEqual(model.diagnostics, []);
        });
      });
    }
  }
});
