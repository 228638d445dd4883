// The TF.js analysis on the official TF.js examples (test/fixtures/tfjs-examples), against TF.js
// itself: the development part (mnist, mnist-acgan, mnist-node, quantization) exact, the held-out
// part (every other example, never fixed against) with nothing wrong without saying so.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports } from '../../src/core/analysis/imports';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { examplesDir, scoreExamples, type Scored, tfjsTruths, topLevelNames } from '../support/tfjsExamples';
import { wasmDir } from './support/analysis';
import { Node } from '../../src/core/analysis/syntax';

async function analyse(path: string, text = readFileSync(path, 'utf8')): Promise<{ reports: ModelReport[]; root: Node }> {
  const parser = (await loadGrammars(wasmDir)).parser('typescript');
  const tree = parser.parse(text);
  if (!tree) throw new Error('no tree');
  const imports = new FileImports(parser, path);
  try {
    return { reports: analyzeTree(tree, { defaultInput: [3, 32, 32], imports }, undefined, 'typescript'), root: Node.root(tree) };
  } finally {
    imports.dispose();
  }
}

const summary = (scored: Scored[]) => scored.filter((s) => s.verdict !== 'exact').map((s) => `${s.verdict} ${s.file} ${s.report.name}: ${s.differences.join('; ').slice(0, 300)}`);

describe('TF.js examples against TF.js', function () {
  this.timeout(600_000);

  it('the development examples: every model TF.js builds is exact, with no false error', async () => {
    const scored = await scoreExamples(join(examplesDir, 'dev'));
    const built = scored.filter((s) => s.verdict !== 'unbuilt');
    assert.ok(built.length >= 7, `${built.length} models built`);
    assert.deepEqual(built.filter((s) => s.verdict !== 'exact').map((s) => `${s.file} ${s.report.name}: ${s.differences.join('; ')}`), []);
    assert.deepEqual(built.flatMap((s) => s.falseErrors), []);
    // What TF.js cannot build as the file gives it (buildGenerator(latentSize)) says it is incomplete.
    assert.deepEqual(scored.filter((s) => s.verdict === 'unbuilt' && s.report.complete !== false).map((s) => s.report.name), []);
  });

  it('the held-out examples: nothing wrong without saying so, no false error', async () => {
    const scored = await scoreExamples(join(examplesDir, 'heldout'));
    assert.ok(scored.length >= 40, `${scored.length} models reported`);
    assert.deepEqual(scored.filter((s) => s.verdict === 'wrong').map((s) => `${s.file} ${s.report.name}`), [], summary(scored).join('\n'));
    assert.deepEqual(scored.flatMap((s) => s.falseErrors), []);
  });

  it("mnist/index.js: the image size imported from ./data, the issue's 33,194 and 33,400 parameters", async () => {
    const { reports } = await analyse(join(examplesDir, 'dev/mnist/index.js'));
    const byName = new Map(reports.map((r) => [r.name, r]));
    assert.deepEqual([...byName.keys()].sort(), ['createConvModel', 'createDenseModel']);
    assert.equal(byName.get('createConvModel')?.totalParams, 33_194);
    assert.deepEqual(byName.get('createConvModel')?.input, [1, 28, 28, 1]);
    assert.equal(byName.get('createDenseModel')?.totalParams, 33_400);
    assert.ok(reports.every((r) => r.complete));
  });

  it('without the sibling module, each dimension on its own: [?, ?, 1], the convolutions counted, the rest unknown with the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-tfjs-'));
    try {
      const path = join(dir, 'index.js');
      writeFileSync(path, readFileSync(join(examplesDir, 'dev/mnist/index.js'), 'utf8'));
      const { reports } = await analyse(path);
      const conv = reports.find((r) => r.name === 'createConvModel');
      assert.deepEqual(conv?.input, [1, null, null, 1]);
      assert.equal(conv?.complete, false);
      assert.equal(conv?.layers[0]?.params, 160, 'a 3×3 convolution of one channel into 16');
      assert.deepEqual(conv?.layers.at(-1)?.out, [1, 10]);
      assert.equal(conv?.paramsKnown, false, 'the first dense layer takes the flattened image, whose size is not known');
      const reason = conv?.incomplete?.[0];
      assert.match(reason?.reason ?? '', /the input shape is only partly known: '\.\/data' is not found beside the file/);
      assert.equal(reason?.range.start.line, 22, 'the import');
      assert.deepEqual(conv?.diagnostics, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("follows a tsconfig.json's paths and baseUrl to the project's modules, and names a package it does not read", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-tsconfig-'));
    try {
      mkdirSync(join(dir, 'src/data'), { recursive: true });
      mkdirSync(join(dir, 'src/lib'), { recursive: true });
      writeFileSync(join(dir, 'tsconfig.json'), '{\n  // the project\'s aliases\n  "compilerOptions": {"baseUrl": "src", "paths": {"@data/*": ["data/*"],},},\n}\n');
      writeFileSync(join(dir, 'src/data/sizes.ts'), 'export const IMAGE_SIZE = 28;\n');
      writeFileSync(join(dir, 'src/lib/widths.ts'), 'export default 8;\n');
      const model = [
        "import * as tf from '@tensorflow/tfjs';",
        "import {IMAGE_SIZE} from '@data/sizes';",
        "import width from 'lib/widths';",
        "import {CLASSES} from 'some-package';",
        'export function build() {',
        '  const model = tf.sequential();',
        '  model.add(tf.layers.conv2d({inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1], filters: width, kernelSize: 3}));',
        '  model.add(tf.layers.flatten());',
        '  model.add(tf.layers.dense({units: CLASSES}));',
        '  return model;',
        '}',
      ].join('\n');
      const path = join(dir, 'src/model.ts');
      writeFileSync(path, model);
      const [report] = (await analyse(path)).reports;
      assert.deepEqual(report?.input, [1, 28, 28, 1]);
      assert.deepEqual(report?.layers.map((l) => [l.name, l.out, l.params]), [
        ['conv2d_1', [1, 26, 26, 8], 80],
        ['flatten_1', [1, 5408], 0],
        ['dense_1', null, 0],
      ]);
      assert.equal(report?.complete, false);
      assert.match(report?.incomplete?.map((i) => i.reason).join('\n') ?? '', /'some-package' is a package the analysis does not read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("mnist-acgan/gan.js: the discriminator's two outputs, the generator's unknown latent size honest, each function once", async () => {
    const path = join(examplesDir, 'dev/mnist-acgan/gan.js');
    const { reports } = await analyse(path);
    assert.deepEqual(reports.map((r) => r.name), ['buildGenerator', 'buildDiscriminator', 'buildCombinedModel']);
    const discriminator = reports.find((r) => r.name === 'buildDiscriminator');
    assert.equal(discriminator?.totalParams, 525_835);
    assert.deepEqual(discriminator?.outputs, [
      [1, 1],
      [1, 10],
    ]);
    assert.equal(discriminator?.complete, true);
    const generator = reports.find((r) => r.name === 'buildGenerator');
    assert.equal(generator?.complete, false);
    assert.deepEqual(generator?.diagnostics, [], 'no false error: the latent size is not known, not wrong');
    assert.match(generator?.incomplete?.map((i) => i.reason).join('\n') ?? '', /parameter latentSize is not given/);
  });

  it('a factory built with the arguments an annotation gives, as TF.js builds it with them', async () => {
    const path = join(examplesDir, 'dev/mnist-acgan/gan.js');
    const text = readFileSync(path, 'utf8').replace('function buildGenerator(latentSize) {', '// cnnlab: args 100\nfunction buildGenerator(latentSize) {');
    const dir = mkdtempSync(join(examplesDir, 'dev/mnist-acgan/.annotated-'));
    try {
      const annotated = join(dir, 'gan.js');
      writeFileSync(annotated, text.replace(/require\('\.\/data'\)/g, "require('../data')"));
      const { reports, root } = await analyse(annotated);
      const generator = reports.find((r) => r.name === 'buildGenerator');
      assert.equal(generator?.build, 'buildGenerator(100)');
      assert.equal(generator?.complete, true, generator?.incomplete?.map((i) => i.reason).join('\n'));
      const [truth] = await tfjsTruths(annotated, [generator as ModelReport], topLevelNames(root));
      assert.ok(truth && !('error' in truth), JSON.stringify(truth));
      assert.equal(generator?.totalParams, truth.totalParams);
      assert.deepEqual(generator?.output?.slice(1), truth.outputs[0]?.slice(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
