// Python's builtins as the analysis evaluates them, against Python itself: each expression of
// test/fixtures/builtins/expressions.txt becomes a layer's width in a model of its own; where the
// analysis shows the model complete, the width must be the whole number Python computes (a float,
// a string or an exception there means PyTorch could not build the layer). What the analysis does
// not follow it must show as unknown, never as another number. A float of whole value (`64 / 2`)
// is told from an int: where a layer wants an int, PyTorch refuses it, and so does the analysis.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { python } from '../support/corpus';
import { analyzePythonSource, wasmDir } from './support/analysis';

const expressions = readFileSync(resolve(__dirname, '../fixtures/builtins/expressions.txt'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');

/** Python's value of each expression: a whole number, or why it is none (a float, a string, an exception). */
function pythonValues(): (number | string)[] {
  const script = `import json, math, sys
out = []
for e in json.load(sys.stdin):
    try:
        v = eval(e)
        out.append(int(v) if isinstance(v, int) else f"{type(v).__name__} {v!r}")
    except Exception as error:
        out.append(type(error).__name__)
print(json.dumps(out))`;
  const run = spawnSync(python, ['-c', script], { input: JSON.stringify(expressions), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as (number | string)[];
}

describe("Python's builtins, against Python", () => {
  it('gives a model made complete only the width Python computes, for every expression of the list', async () => {
    const truth = pythonValues();
    const source = ['import math', 'import torch.nn as nn', ''];
    expressions.forEach((e, i) => source.push(`class E${i}(nn.Module):`, '    def __init__(self):', '        super().__init__()', `        self.fc = nn.Linear(4, ${e})`, '', '    def forward(self, x):', '        return self.fc(x)', ''));
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const tree = parser.parse(source.join('\n'));
    if (!tree) throw new Error('no tree');
    const reports = new Map(analyzeTree(tree, { defaultInput: [4] }).map((r) => [r.name, r]));
    tree.delete();
    const wrong: string[] = [];
    let known = 0;
    expressions.forEach((e, i) => {
      const report = reports.get(`E${i}`);
      assert.ok(report, `E${i} not reported`);
      if (!report.complete) return;
      known++;
      const width = report.output?.[1];
      if (width !== truth[i]) wrong.push(`${e}: the analysis says ${String(width)}, Python ${String(truth[i])}`);
    });
    // A float of whole value (`64 / 2`, `-7.5 // 2`) is told from an int: nn.Linear raises on it.
    assert.deepEqual(wrong, []);
    assert.ok(known >= 115, `only ${known} of ${expressions.length} expressions followed`);
  });

  it('tells a float of whole value from an int where a layer wants one, as PyTorch does', async () => {
    // Each layer with the input it runs on: PyTorch refuses the floats (at construction or in the forward pass).
    const cases: [string, number[], boolean][] = [
      ['nn.Linear(64 / 2, 10)', [32], false],
      ['nn.Conv2d(3, 8, 3.0)', [3, 8, 8], false],
      ['nn.Conv2d(3, 2 ** -1 * 16, 3)', [3, 8, 8], false],
      ['nn.BatchNorm2d(math.sqrt(64))', [8, 4, 4], false],
      ['nn.MaxPool2d(4 / 2)', [3, 8, 8], false],
      ['nn.Linear(int(64 / 2), 10)', [32], true],
      ['nn.Linear(64 // 2, 10)', [32], true],
      ['nn.Upsample(scale_factor=2.0)', [3, 8, 8], true],
      ['nn.Dropout(1.0 / 2)', [3, 8, 8], true],
    ];
    const script = `import json, math, sys, torch, torch.nn as nn
out = []
for layer, shape in json.load(sys.stdin):
    try:
        eval(layer)(torch.zeros(1, *shape))
        out.append(True)
    except TypeError:
        out.append(False)
print(json.dumps(out))`;
    const run = spawnSync(python, ['-c', script], { input: JSON.stringify(cases.map(([layer, shape]) => [layer, shape])), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), cases.map(([, , builds]) => builds), 'PyTorch builds and runs the cases marked so');
    for (const [layer, shape, builds] of cases) {
      const [model] = await analyzePythonSource(['import math', 'import torch.nn as nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', `        self.layer = ${layer}`, '', '    def forward(self, x):', '        return self.layer(x)', ''].join('\n'), shape);
      assert.ok(model, layer);
      assert.equal(model.complete, builds, `${layer}: complete`);
      const errors = model.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
      if (builds) assert.deepEqual(errors, [], layer);
      else assert.match(errors.join('\n'), /is \d+\.0(, \d+\.0)?\)?, not a whole number.*PyTorch refuses a float even when it is whole \(write \/\/ or int\(\)\)/, layer);
    }
  });
});
