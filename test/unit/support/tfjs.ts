// The TF.js oracle: a model file bundled with esbuild and built by @tensorflow/tfjs itself.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { buildSync } from 'esbuild';
import { analyzeTree } from '../../../src/core/analysis/analyze';
import type { ModelReport } from '../../../src/core/analysis/report';
import { loadGrammars } from '../../../src/core/analysis/syntax';
import { wasmDir } from './analysis';

const repo = resolve(__dirname, '../../..');
// Inside the repository, so that the bundles resolve @tensorflow/tfjs from its node_modules.
const out = resolve(repo, '.test-output/tfjs');
mkdirSync(out, { recursive: true });

const concrete = (shape: (number | null)[]) => shape.map((d) => d ?? 1);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** What TF.js says of the model `buildModel()` in `file` builds, in the analysis' terms. */
export function tfjsTruth(file: string) {
  const bundle = join(out, `${file.replace(/[/\\]/g, '_')}.cjs`);
  buildSync({ entryPoints: [resolve(repo, file)], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, external: ['@tensorflow/tfjs'], logLevel: 'silent' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const model = (require(bundle) as { buildModel(): tfTypes.LayersModel }).buildModel();
  return {
    layers: model.layers
      .filter((l) => l.getClassName() !== 'InputLayer')
      .map((l) => [l.getClassName().replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/2D$/, '2d'), concrete(l.outputShape as (number | null)[]), l.countParams()]),
    output: concrete(model.outputs[0]?.shape ?? []),
    totalParams: model.countParams(),
    trainableParams: model.trainableWeights.reduce((sum, w) => sum + size(w.shape as number[]), 0),
  };
}

/** The same, as the static analysis sees it. */
export function analysisOf(report: ModelReport) {
  return { layers: report.layers.map((l) => [l.type, l.out, l.params]), output: report.output, totalParams: report.totalParams, trainableParams: report.trainableParams };
}

export async function analyzeTypescriptSource(source: string): Promise<ModelReport[]> {
  const tree = (await loadGrammars(wasmDir)).parser('typescript').parse(source);
  if (!tree) throw new Error('no tree');
  try {
    return analyzeTree(tree, { defaultInput: [3, 32, 32] }, undefined, 'typescript');
  } finally {
    tree.delete();
  }
}
