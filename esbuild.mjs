// One build for every target: the extension host, the CLI, the trainer programs and the webviews.
// `--watch` rebuilds on change, `--production` minifies and drops source maps.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs' };

const targets = [
  // The analysis runs in a worker thread of its own bundle; a notebook's modules for exact mode and training are another, loaded when first needed.
  { ...node, entryPoints: { extension: 'src/extension/extension.ts', analysis: 'src/core/analysis/engine.ts', analysisWorker: 'src/core/analysis/worker.ts' }, outdir: 'dist', external: ['vscode'] },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  // TF.js comes from the user's project (or this repository's devDependencies), never from the bundle.
  { ...node, entryPoints: { tfjs: 'src/trainer/tfjs.ts' }, outdir: 'dist/trainer', external: ['@tensorflow/*'] },
  {
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    entryPoints: { welcome: 'src/webviews/welcome/main.ts', dashboard: 'src/webviews/dashboard/main.ts', dataset: 'src/webviews/dataset/main.ts', compare: 'src/webviews/compare/main.ts', playground: 'src/webviews/playground/main.ts', inspector: 'src/webviews/inspector/main.ts', tensor: 'src/webviews/tensor/main.ts' },
    outdir: 'dist/webviews',
  },
];

/**
 * Files that ship as they are, beside the bundles: the trainer's Python programs, the parsers,
 * esbuild's WebAssembly build, with which the tfjs engine compiles model files on any platform, and
 * the examples "Create Example Project" writes.
 */
const grammarDir = 'node_modules/@vscode/tree-sitter-wasm/wasm';
function copyRuntimeFiles() {
  for (const folder of ['', 'cnn_lab_engine/']) {
    mkdirSync(`dist/trainer/${folder}`, { recursive: true });
    for (const file of readdirSync(`src/trainer/${folder}`).filter((name) => name.endsWith('.py'))) cpSync(`src/trainer/${folder}${file}`, `dist/trainer/${folder}${file}`);
  }
  for (const file of ['package.json', 'bin/esbuild', 'lib/main.js', 'esbuild.wasm', 'wasm_exec.js', 'wasm_exec_node.js']) cpSync(`node_modules/esbuild-wasm/${file}`, `dist/trainer/esbuild-wasm/${file}`);
  cpSync('examples', 'dist/examples', { recursive: true });
  mkdirSync('dist/parsers', { recursive: true });
  for (const file of ['tree-sitter.wasm', 'tree-sitter-python.wasm', 'tree-sitter-typescript.wasm']) cpSync(`${grammarDir}/${file}`, `dist/parsers/${file}`);
}

const copyPlugin = {
  name: 'copy-runtime-files',
  setup(build) {
    build.onEnd(() => copyRuntimeFiles());
  },
};

rmSync('dist', { recursive: true, force: true });
if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context({ ...t, plugins: [copyPlugin] })));
  await Promise.all(contexts.map((c) => c.watch()));
  process.stdout.write('esbuild: watching for changes\n');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  copyRuntimeFiles();
}
