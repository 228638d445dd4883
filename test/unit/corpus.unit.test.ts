// The analysis on code it was not written for: real model files from public repositories
// (test/fixtures/realworld, sources in its SOURCES.md) and the installed torchvision's model files,
// compared leaf module by leaf module with what PyTorch itself reports for the same input
// (test/support/corpus_truth.py, with exact mode's hooks), with the analysis' own semantics
// fixtures beside them. The floors are what is measured today, every layer: a regression fails.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { claimsComplete, figures as setFigures, measure, python, pythonFiles, realworldInputs, repo, type Tally } from '../support/corpus';

const corpusDir = resolve(repo, 'test/fixtures/realworld');
/** The Python the analysis claims to follow, one feature at a time (written for it, so held to every layer). */
const semanticsDir = resolve(repo, 'test/fixtures/semantics');
/** Other authors' model zoos (test/fixtures/zoo/SOURCES.md): dev is read and fixed against, heldout only scored. */
const zooDirs = { dev: resolve(repo, 'test/fixtures/zoo/dev'), heldout: resolve(repo, 'test/fixtures/zoo/heldout') };
const reportFile = '/tmp/corpus-report.txt';

/** torchvision's factories, each with weights=None (the default), at ImageNet's input. */
const torchvisionModels: Record<string, string[]> = {
  alexnet: ['alexnet()'],
  convnext: ['convnext_tiny()'],
  densenet: ['densenet121()'],
  efficientnet: ['efficientnet_b0()', 'efficientnet_v2_s()'],
  googlenet: ['googlenet()'],
  inception: ['inception_v3()'],
  mnasnet: ['mnasnet1_0()'],
  mobilenetv2: ['mobilenet_v2()'],
  mobilenetv3: ['mobilenet_v3_small()', 'mobilenet_v3_large()'],
  regnet: ['regnet_x_400mf()', 'regnet_y_400mf()'],
  resnet: ['resnet18()', 'resnet50()', 'resnext50_32x4d()', 'wide_resnet50_2()'],
  shufflenetv2: ['shufflenet_v2_x1_0()'],
  squeezenet: ['squeezenet1_0()', 'squeezenet1_1()'],
  vgg: ['vgg11()', 'vgg16_bn()'],
};
const torchvisionInput = (build: string) => (build === 'inception_v3()' ? [1, 3, 299, 299] : [1, 3, 224, 224]);

/** The floors, in per cent: every layer of every model, as measured; a regression fails. */
const floors = {
  realworld: { layers: 100, models: 100 }, // 13,359 of 13,359 leaf modules, 68 of 68 models
  torchvision: { layers: 100, models: 100 }, // 3,424 of 3,424, 22 of 22
  semantics: { layers: 100, models: 100 }, // 312 of 312, 60 of 60
  // Scored with PyTorch's own input checks: a model PyTorch cannot run on the report's input is not exact.
  dev: { layers: 99.7, models: 98 }, // 294,279 of 294,808, 479 of 486 (osmr/pytorchcv's 400 models among them; before it, 17,221 of 17,745, 88 of 90)
  heldout: { layers: 99.7, models: 91 }, // 4,863 of 4,876, 61 of 67 (before issue 24's evaluator: 97.5 %, 59 of 67, 5 wrong without saying so)
};
const goals = { layers: 95, models: 90 };

type SetName = 'realworld' | 'semantics' | 'torchvision' | 'dev' | 'heldout';
const figures = (tally: Tally, set: SetName) => setFigures(tally, set);

function summary(tally: Tally): string {
  const lines = [`Real-world corpus against PyTorch ${tally.torch} (leaf modules: name, type, output shape, parameters, MACs of Conv/Linear)`, ''];
  for (const set of ['realworld', 'semantics', 'torchvision'] as const) {
    const f = figures(tally, set);
    lines.push(set === 'torchvision' ? 'torchvision (installed), its imports of its own files followed' : `test/fixtures/${set}`);
    for (const c of f.compared) {
      lines.push(`  ${c.exact ? '✓' : '✗'} ${basename(c.file)} ${c.build} [${c.kind}]: ${c.exactLayers}/${c.layers} leaves exact${c.firstMismatch ? `; first: ${c.firstMismatch}` : ''}`);
    }
    for (const m of f.misses) lines.push(`  ✗ ${basename(m.file)} ${m.build}: not reported (PyTorch builds it)`);
    lines.push('');
  }
  // Building blocks such as BasicBlock(in_planes, planes) are reported with a build that needs arguments.
  const needArguments = tally.unbuildable.filter((u) => /__init__\(\) missing \d+ required positional argument/.test(u.error));
  lines.push(`Reported by the analysis but not built or run by PyTorch, not counted: ${tally.unbuildable.length}, of which ${needArguments.length} classes need constructor arguments; the others:`);
  for (const u of tally.unbuildable.filter((x) => !needArguments.includes(x) && x.set !== 'heldout')) lines.push(`  ${basename(u.file)} ${u.build}: ${u.error}`);
  lines.push('');
  for (const set of ['realworld', 'semantics', 'torchvision'] as const) {
    const f = figures(tally, set);
    const name = set === 'realworld' ? 'real-world files' : set === 'semantics' ? 'the analysis\' own semantics fixtures' : 'torchvision';
    lines.push(
      `${name}: ${f.layerPercent.toFixed(1)} % of leaf modules exact (${f.exactLayers} of ${f.layers}, in the models compared), ${f.exactModels} of ${f.models} models (${f.modelPercent.toFixed(1)} %), ${f.misses.length} of them not reported`,
    );
  }
  // The zoos by their totals only: what fails in the held-out part is not to be read while fixing the analysis.
  for (const set of ['dev', 'heldout'] as const) {
    const f = figures(tally, set);
    const silent = f.compared.filter((c) => c.claimsComplete && c.wrong).length;
    lines.push(`zoo ${set}: ${f.layerPercent.toFixed(1)} % of leaf modules exact (${f.exactLayers} of ${f.layers}), ${f.exactModels} of ${f.models} models (${f.modelPercent.toFixed(1)} %), ${silent} wrong without saying so`);
  }
  lines.push(`goals (issue 15): ≥ ${goals.layers} % of leaf modules, ≥ ${goals.models} % of models`);
  return lines.join('\n');
}

describe('the analysis on real-world model files, against PyTorch', function () {
  // A limit, not a goal: the measurement runs PyTorch on every model, and took over 300 s on a slower 2-core CPU.
  this.timeout(900_000);
  let tally: Tally;

  before(async () => {
    const corpus = [
      ...pythonFiles(corpusDir).map((file) => ({ set: 'realworld', file })),
      ...pythonFiles(semanticsDir).map((file) => ({ set: 'semantics', file })),
      ...pythonFiles(zooDirs.dev, true).map((file) => ({ set: 'dev', file })),
      ...pythonFiles(zooDirs.heldout, true).map((file) => ({ set: 'heldout', file })),
    ];
    const located = spawnSync(python, ['-c', 'import torchvision, os; print(os.path.dirname(torchvision.__file__))'], { encoding: 'utf8' });
    assert.equal(located.status, 0, located.stderr);
    const torchvisionDir = resolve(located.stdout.trim(), 'models');
    const extra = Object.entries(torchvisionModels).flatMap(([stem, builds]) =>
      builds.map((build) => ({ set: 'torchvision', file: resolve(torchvisionDir, `${stem}.py`), module: `torchvision.models.${stem}`, build, input: torchvisionInput(build) })),
    );
    tally = await measure({ files: corpus, extra, givenInputs: realworldInputs, exactMode: true });

    const text = summary(tally);
    writeFileSync(reportFile, `${text}\n`);
    process.stdout.write(`${text.replace(/^/gm, '      ')}\n      (written to ${reportFile})\n`);
  });

  for (const set of ['realworld', 'semantics', 'torchvision', 'dev', 'heldout'] as const) {
    it(`${set}: keeps at least ${floors[set].layers} % of leaf modules and ${floors[set].models} % of models exact`, () => {
      const f = figures(tally, set);
      assert.ok(f.compared.length > 0, 'models were compared');
      assert.ok(f.layerPercent >= floors[set].layers, `${f.layerPercent.toFixed(1)} % of leaf modules exact, floor ${floors[set].layers} %`);
      assert.ok(f.modelPercent >= floors[set].models, `${f.modelPercent.toFixed(1)} % of models exact, floor ${floors[set].models} %`);
    });
  }

  it('never shows a model as complete unless it equals PyTorch (every set, held-out included)', () => {
    const silent = tally.compared.filter((c) => c.claimsComplete && c.wrong);
    assert.ok(tally.compared.some((c) => !c.claimsComplete), 'some models say they are incomplete');
    // A model PyTorch builds but cannot run on the input the report shows is wrong too, unless the report says it is incomplete.
    const unrunnable = tally.unbuildable.filter((u) => u.stage === 'run' && u.report && claimsComplete(u.report));
    assert.deepEqual([...silent.map((c) => `${c.set}: ${basename(c.file)} ${c.build}: ${c.firstMismatch ?? ''}`), ...unrunnable.map((u) => `${u.set}: ${basename(u.file)} ${u.build}: PyTorch cannot run it on ${JSON.stringify(u.input)}: ${u.error}`)], []);
  });

  it('in exact mode, gives PyTorch\'s name, type, shape, parameters and MACs for every layer of every model', () => {
    const wrong = tally.exactMode.filter((c) => !c.exact);
    assert.ok(tally.exactMode.length > 0);
    assert.deepEqual(wrong.map((c) => `${basename(c.file)} ${c.build}: ${c.firstMismatch ?? ''}`), []);
    process.stdout.write(`      exact mode: ${tally.exactMode.length} models, ${tally.exactMode.reduce((n, c) => n + c.layers, 0)} leaf modules, all as PyTorch gives them\n`);
  });
});
