// The TF.js analysis against TF.js on the official examples (test/fixtures/tfjs-examples, from
// tensorflow/tfjs-examples, Apache-2.0), shared by the test (test/unit/tfjsExamples.unit.test.ts)
// and the score (scripts/score-tfjs.ts). Each model file is bundled with esbuild as its example
// bundles it (its sibling modules followed), every package but TF.js replaced by an inert stand-in,
// and run in a child Node process with the DOM stood in for too: each model the analysis reports
// (a function it calls with the arguments the report names, or a module-level variable) is built
// by @tensorflow/tfjs and compared: its layers' output shapes and parameters, its outputs, its counts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports } from '../../src/core/analysis/imports';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars, Node } from '../../src/core/analysis/syntax';
import { wasmDir } from '../unit/support/analysis';

export const repo = resolve(__dirname, '../..');
export const examplesDir = resolve(repo, 'test/fixtures/tfjs-examples');
// Inside the repository, so that the bundles resolve @tensorflow/tfjs from its node_modules.
const out = resolve(repo, '.test-output/tfjs-examples');

/** What TF.js says of one model. */
export interface TfjsModelTruth {
  layers: [string, (number | null)[][], number][];
  outputs: (number | null)[][];
  totalParams: number;
  trainableParams: number;
  /** The function threw after making the model (it trains it on data it does not have here): the model may be unfinished. */
  threw?: string;
}

export type TfjsTruth = TfjsModelTruth | { error: string };

/** The JavaScript and TypeScript files of a folder, recursively. */
export function scriptFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return scriptFiles(path);
      return /\.(js|ts)$/.test(name) ? [path] : [];
    });
}

/** Every package but TF.js is an inert stand-in: any property, call or construction gives another. */
const standIns: Plugin = {
  name: 'stand-ins',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (/^@tensorflow\/tfjs(-node|-node-gpu)?$/.test(args.path)) return { path: '@tensorflow/tfjs', external: true };
      return { path: args.path, namespace: 'stand-in' };
    });
    build.onLoad({ filter: /.*/, namespace: 'stand-in' }, () => ({ contents: 'module.exports = globalThis.__cnnlabStandIn;', loader: 'js' }));
  },
};

/** The names a file declares at its top level: functions are hoisted, so they are taken before its statements run. */
function exposing(names: { functions: string[]; variables: string[] }): { before: string; after: string } {
  const pick = (list: string[]) => `{${list.map((n) => `${JSON.stringify(n)}: (() => { try { return ${n}; } catch { return undefined; } })()`).join(', ')}}`;
  return { before: `globalThis.__cnnlabFunctions = ${pick(names.functions)};\n`, after: `\nglobalThis.__cnnlabVariables = ${pick(names.variables)};\n` };
}

const childProgram = `
const handler = { get: (t, p) => (p === 'then' || p === Symbol.toPrimitive || p === Symbol.iterator ? undefined : p === 'length' ? 0 : standIn), apply: () => standIn, construct: () => standIn };
const standIn = new Proxy(function () {}, handler);
globalThis.__cnnlabStandIn = standIn;
for (const name of ['document', 'alert', 'localStorage', 'location', 'Image', 'HTMLElement', 'tfvis', 'ui']) globalThis[name] ??= standIn;
// Every model tf.sequential and tf.model make is seen, for a function that builds one and trains it without returning it.
const Module = require('module');
const tfjs = require('@tensorflow/tfjs');
let created = [];
const tf = new Proxy(tfjs, { get: (t, p) => (p === 'sequential' || p === 'model' ? (...a) => { const m = t[p](...a); created.push(m); return m; } : t[p]) });
const load = Module._load;
Module._load = function (request, ...rest) { return request === '@tensorflow/tfjs' ? tf : load.call(this, request, ...rest); };
process.on('unhandledRejection', () => undefined);
process.on('uncaughtException', () => undefined);
const [bundle, requests] = [process.argv[1], JSON.parse(process.argv[2])];
let loadError;
try { require(bundle); } catch (error) { loadError = error; }
const functions = globalThis.__cnnlabFunctions ?? {};
const variables = globalThis.__cnnlabVariables ?? {};
const shapes = (s) => (Array.isArray(s[0]) || s[0] === undefined ? s : [s]).map((d) => d.map((x) => x ?? null));
const isModel = (m) => m && typeof m.countParams === 'function';
(async () => {
  const answers = [];
  for (const { name, args, index } of requests) {
    try {
      let model;
      let threw;
      if (args === null) model = variables[name];
      else {
        if (typeof functions[name] !== 'function') throw new Error(name + ' is not a function here' + (loadError ? ' (' + loadError.message + ')' : ''));
        created = [];
        let returned;
        try { returned = await functions[name](...args); } catch (error) { threw = String(error && error.message || error); }
        // What it returns, else the models it made that no other made model holds, by their order.
        const inner = new Set(created.flatMap((m) => m.layers.filter(isModel)));
        model = isModel(returned) ? returned : created.filter((m) => !inner.has(m))[index];
      }
      if (!isModel(model)) throw new Error(name + ' gives no model' + (loadError ? ' (' + loadError.message + ')' : ''));
      const size = (shape) => shape.reduce((a, b) => a * b, 1);
      answers.push({
        layers: model.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => [l.getClassName(), shapes(l.outputShape), l.countParams()]),
        outputs: model.outputs.map((o) => o.shape.map((d) => d ?? null)),
        totalParams: model.countParams(),
        trainableParams: model.trainableWeights.reduce((sum, w) => sum + size(w.shape), 0),
        ...(threw ? { threw } : {}),
      });
    } catch (error) {
      answers.push({ error: String(error && error.message || error) });
    }
  }
  process.stdout.write('\\n@@truth ' + JSON.stringify(answers) + '\\n');
  process.exit(0);
})();
`;

/**
 * A report's model as the child builds it: a function the file declares, called with the arguments
 * its build names (none if it names none: the defaults, as the trainer calls it), else a module-level
 * variable; `index` picks among the models one function makes without returning.
 */
export function requestOf(report: ModelReport, functions: readonly string[], index: number): { name: string; args: unknown[] | null; index: number } {
  const call = report.build ? /^([\w$]+)\((.*)\)$/s.exec(report.build) : null;
  const name = call?.[1] ?? report.name;
  if (!functions.includes(name)) return { name, args: null, index };
  try {
    return { name, args: JSON.parse(`[${call?.[2] ?? ''}]`) as unknown[], index };
  } catch {
    return { name, args: [], index };
  }
}

/** The functions and variables a file declares at its top level (exported or not). */
export function topLevelNames(root: Node): { functions: string[]; variables: string[] } {
  const functions: string[] = [];
  const variables: string[] = [];
  for (const raw of root.namedChildren) {
    const statement = raw?.type === 'export_statement' ? raw.childForFieldName('declaration') : raw;
    if (!statement) continue;
    if (/function_declaration$/.test(statement.type)) {
      const name = statement.childForFieldName('name')?.text;
      if (name) functions.push(name);
    } else if (statement.type === 'lexical_declaration' || statement.type === 'variable_declaration') {
      for (const declarator of statement.namedChildren) {
        const name = declarator?.childForFieldName('name');
        if (name?.type === 'identifier') variables.push(name.text);
      }
    }
  }
  return { functions, variables };
}

/** TF.js's answers for the reports of one file, in their order. */
export async function tfjsTruths(file: string, reports: readonly ModelReport[], names: { functions: string[]; variables: string[] }): Promise<TfjsTruth[]> {
  mkdirSync(out, { recursive: true });
  const bundle = join(out, `${relative(examplesDir, file).replace(/[/\\]/g, '_')}.cjs`);
  const { before, after } = exposing(names);
  const source = readFileSync(file, 'utf8');
  const entry: Plugin = {
    name: 'entry',
    setup(builder) {
      builder.onLoad({ filter: /.*/ }, (args) => (args.path === file ? { contents: `${before}${source}${after}`, loader: file.endsWith('.ts') ? 'ts' : 'js', resolveDir: resolve(file, '..') } : undefined));
    },
  };
  try {
    await build({ entryPoints: [file], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent', plugins: [standIns, entry] });
  } catch (error) {
    return reports.map(() => ({ error: `esbuild: ${String(error)}` }));
  }
  const child = spawnSync(process.execPath, ['-e', childProgram, bundle, JSON.stringify(reports.map((r, i) => requestOf(r, names.functions, reports.slice(0, i).filter((o) => o.name === r.name).length)))], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  const line = child.stdout.split('\n').find((l) => l.startsWith('@@truth '));
  if (!line) return reports.map(() => ({ error: `the child gave no answer: ${child.stderr.slice(-400)}` }));
  return JSON.parse(line.slice('@@truth '.length)) as TfjsTruth[];
}

/** How a report compares with TF.js: exact, honestly incomplete, wrong without saying so, or not built by TF.js. */
export type Verdict = 'exact' | 'incomplete' | 'wrong' | 'unbuilt';

export interface Scored {
  file: string;
  report: ModelReport;
  truth: TfjsTruth;
  verdict: Verdict;
  /** What differs, for a wrong or an incomplete one. */
  differences: string[];
  /** Error diagnostics where TF.js builds the model. */
  falseErrors: string[];
}

const layerType = (name: string) => name.toLowerCase();

/** The analysis' numbers against TF.js's. */
export function compare(report: ModelReport, truth: TfjsModelTruth): string[] {
  const differences: string[] = [];
  const outputs = report.outputs ?? (report.output ? [report.output] : []);
  const shown = (shape: readonly (number | null)[]) => JSON.stringify(shape.slice(1));
  if (JSON.stringify(outputs.map(shown)) !== JSON.stringify(truth.outputs.map(shown))) differences.push(`outputs ${JSON.stringify(outputs)} (TF.js ${JSON.stringify(truth.outputs)})`);
  if (report.totalParams !== truth.totalParams) differences.push(`total parameters ${report.totalParams} (TF.js ${truth.totalParams})`);
  if (report.trainableParams !== truth.trainableParams) differences.push(`trainable parameters ${report.trainableParams} (TF.js ${truth.trainableParams})`);
  const layers = report.layers.map((l) => [layerType(l.type), [l.out ? shown(l.out) : 'null'], l.params]);
  const expected = truth.layers.map(([type, outs, params]) => [layerType(type), outs.map(shown), params]);
  if (JSON.stringify(layers) !== JSON.stringify(expected)) differences.push(`layers ${JSON.stringify(layers)} (TF.js ${JSON.stringify(expected)})`);
  return differences;
}

/** Every model the analysis reports in the TF.js files of `dir`, each compared with TF.js. */
export async function scoreExamples(dir: string): Promise<Scored[]> {
  const parser = (await loadGrammars(wasmDir)).parser('typescript');
  const scored: Scored[] = [];
  for (const file of scriptFiles(dir)) {
    const tree = parser.parse(readFileSync(file, 'utf8'));
    if (!tree) continue;
    const imports = new FileImports(parser, file);
    try {
      const reports = analyzeTree(tree, { defaultInput: [3, 32, 32], imports }, undefined, 'typescript');
      if (reports.length === 0) continue;
      const truths = await tfjsTruths(file, reports, topLevelNames(Node.root(tree)));
      reports.forEach((report, i) => {
        const truth = truths[i] ?? { error: 'no answer' };
        if ('error' in truth) {
          scored.push({ file: relative(repo, file), report, truth, verdict: 'unbuilt', differences: [truth.error], falseErrors: [] });
          return;
        }
        const differences = compare(report, truth);
        const falseErrors = report.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
        // A model its function may have left unfinished when it threw is no measure of a report that differs.
        const verdict: Verdict = differences.length === 0 ? 'exact' : truth.threw ? 'unbuilt' : report.complete === false ? 'incomplete' : 'wrong';
        if (truth.threw && differences.length > 0) differences.push(`its function threw: ${truth.threw}`);
        scored.push({ file: relative(repo, file), report, truth, verdict, differences, falseErrors });
      });
    } finally {
      imports.dispose();
      tree.delete();
    }
  }
  return scored;
}
