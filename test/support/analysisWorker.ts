// The analysis worker bundled as the extension's build bundles it (esbuild.mjs), for the tests and the bench.
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/** Writes dist/analysisWorker.js's equivalent into `dir` and gives its path. */
export async function buildAnalysisWorker(dir: string): Promise<string> {
  const script = join(dir, 'analysisWorker.js');
  await build({ entryPoints: [resolve(__dirname, '../../src/core/analysis/worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: script, logLevel: 'warning' });
  return script;
}
