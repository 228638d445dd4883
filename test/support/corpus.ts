// The analysis against PyTorch on model files it was not written for, shared by the corpus test
// (test/unit/corpus.unit.test.ts) and the scoring script (scripts/score-corpus.ts): each file is
// analysed as the editor analyses it (its imports of its neighbours followed), PyTorch builds each
// model the analysis reports and runs it on the same input (test/support/corpus_truth.py, with exact
// mode's hooks), lists what else it can build with no arguments, and the two are compared leaf
// module by leaf module.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { withExactShapes } from '../../src/core/analysis/exactShapes';
import { FileImports } from '../../src/core/analysis/imports';
import type { LayerReport, ModelReport } from '../../src/core/analysis/report';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { exactModelSchema } from '../../src/core/protocol/shapes';
import { safeParse } from '../../src/core/schema';
import { wasmDir } from '../unit/support/analysis';

export const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
export const repo = resolve(__dirname, '../..');
/** The input a file's models get where neither its comments nor a caller say otherwise. */
export const defaultInput = [3, 32, 32];

/** Inputs test/fixtures/realworld's own comments give where its first layer's convention cannot tell. */
export const realworldInputs: Record<string, number[]> = {
  'examples_dcgan.py netG': [1, 100, 1, 1], // "input is Z, going into a convolution"
  'examples_mnist_rnn.py Net()': [1, 1, 28, 28], // "Shape of input is (batch_size,1, 28, 28)"
};

export interface TruthLayer {
  name: string;
  type: string;
  out: number[] | null;
  params: number;
  macs?: number | null;
  /** Inside a TorchScript module, where no hook sees a call: its type and parameters are compared, not its shapes. */
  unseen?: true;
}
export interface Described {
  input: number[];
  output: number[] | null;
  totalParams: number;
  trainableParams: number;
  layers: TruthLayer[];
}
export interface TruthRequest {
  file: string;
  /** The file's dotted name where it is part of a package, for its relative imports. */
  module?: string;
  build: string;
  input: number[];
}
export interface TruthResult extends TruthRequest {
  ok: boolean;
  error?: string;
  /** Where PyTorch failed: importing the file, evaluating the build, or running the model. */
  stage?: 'import' | 'build' | 'run';
  described?: Described;
}
export interface TruthReply {
  torch: string;
  models: TruthResult[];
  found: Record<string, string[]>;
}

/** One model compared: exact leaves of PyTorch's, and the first difference with the analysis' note. */
export interface Comparison {
  set: string;
  file: string;
  build: string;
  kind: string;
  exactLayers: number;
  layers: number;
  exact: boolean;
  firstMismatch?: string;
  /** The report does not say it is incomplete (`complete === false`): it claims to be whole. */
  claimsComplete: boolean;
  /** A layer's type, shape or parameters, or the model's output or total parameters, differ from PyTorch's (MACs aside). */
  wrong: boolean;
}
export interface Unbuildable {
  set: string;
  file: string;
  build: string;
  /** The input PyTorch was asked to run it on. */
  input: number[];
  error: string;
  stage?: TruthResult['stage'];
  /** The analysis' report of it, for a caller that counts the ones PyTorch builds but cannot run. */
  report?: ModelReport;
}
export interface Tally {
  torch: string;
  compared: Comparison[];
  /** Models PyTorch builds with no arguments that the analysis does not report. */
  misses: { set: string; file: string; build: string }[];
  /** Models the analysis reports that PyTorch cannot build or run (not counted). */
  unbuildable: Unbuildable[];
  /** The compared models again, in exact mode: the static report with PyTorch's answer laid on it. */
  exactMode: Comparison[];
}

/** A file of a corpus, in its set. */
export interface CorpusFile {
  set: string;
  file: string;
}

/** Whether a report says that it is incomplete: `complete` is false (a field a report may lack). */
export const claimsComplete = (report: ModelReport) => (report as { complete?: boolean }).complete !== false;

const shape = (s: readonly (number | null)[] | null | undefined) => (s ? `[${s.map((d) => d ?? '?').join(', ')}]` : 'none');
const sameShape = (a: readonly (number | null)[] | null | undefined, b: readonly number[] | null) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
/** MACs are compared where both sides count them by the same rule: convolutions and Linear. */
const macsCompared = (type: string) => /^(Conv|ConvTranspose)[123]d$|^Linear$/.test(type);

/** The first way a leaf differs from PyTorch's, and whether it is a wrong structure (not only MACs). */
function layerDifference(mine: LayerReport | undefined, truth: TruthLayer): { text: string; wrong: boolean } | undefined {
  if (!mine) return { text: `${truth.name} (${truth.type}) not reported`, wrong: true };
  const note = mine.note ? ` — ${mine.note.replace(/\s+/g, ' ')}` : '';
  if (mine.type !== truth.type) return { text: `${truth.name}: type ${mine.type}, PyTorch ${truth.type}${note}`, wrong: true };
  if (!truth.unseen && !sameShape(mine.out, truth.out)) return { text: `${truth.name} (${truth.type}): out ${shape(mine.out)}, PyTorch ${shape(truth.out)}${note}`, wrong: true };
  if (mine.params !== truth.params) return { text: `${truth.name} (${truth.type}): ${mine.params} params, PyTorch ${truth.params}${note}`, wrong: true };
  if (macsCompared(truth.type) && typeof mine.macs === 'number' && typeof truth.macs === 'number' && mine.macs !== truth.macs) {
    return { text: `${truth.name} (${truth.type}): ${mine.macs} MACs, PyTorch ${truth.macs}${note}`, wrong: false };
  }
  return undefined;
}

export function compare(set: string, file: string, report: ModelReport, truth: Described): Comparison {
  const mine = new Map(report.layers.map((l) => [l.name, l]));
  const differences = truth.layers.map((t) => layerDifference(mine.get(t.name), t));
  const known = new Set(truth.layers.map((t) => t.name));
  const extra = report.layers.filter((l) => !known.has(l.name)).map((l) => `${l.name} (${l.type}) is no leaf of PyTorch's`);
  const modelDifferences = [
    ...(sameShape(report.output, truth.output) ? [] : [`output ${shape(report.output)}, PyTorch ${shape(truth.output)}${report.outputNote ? ` — ${report.outputNote}` : ''}`]),
    ...(report.totalParams === truth.totalParams ? [] : [`${report.totalParams} params, PyTorch ${truth.totalParams}`]),
    ...(report.trainableParams === truth.trainableParams ? [] : [`${report.trainableParams} trainable params, PyTorch ${truth.trainableParams}`]),
  ];
  const firstMismatch = differences.find((d) => d !== undefined)?.text ?? extra[0] ?? modelDifferences[0];
  return {
    set,
    file,
    build: report.build ?? report.name,
    kind: report.kind,
    exactLayers: differences.filter((d) => d === undefined).length,
    layers: truth.layers.length,
    exact: firstMismatch === undefined,
    ...(firstMismatch === undefined ? {} : { firstMismatch }),
    claimsComplete: claimsComplete(report),
    wrong: differences.some((d) => d?.wrong === true) || extra.length > 0 || modelDifferences.length > 0,
  };
}

export function askPyTorch(models: TruthRequest[], enumerate: (string | { file: string; module?: string })[]): TruthReply {
  const run = spawnSync(python, [resolve(repo, 'test/support/corpus_truth.py')], {
    input: JSON.stringify({ models, enumerate }),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '' },
  });
  if (run.status !== 0) throw new Error(`corpus_truth.py failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as TruthReply;
}

/** A folder's Python files, sorted; with `recursive`, those of its sub-folders too (a package's tree). */
export function pythonFiles(dir: string, recursive = false): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory() && recursive && entry.name !== '__pycache__') files.push(...pythonFiles(join(dir, entry.name), true));
    else if (entry.isFile() && entry.name.endsWith('.py')) files.push(resolve(dir, entry.name));
  }
  return files;
}

/** The dotted name Python imports a file by when it is part of a package (its folder has an __init__.py). */
export function packageModule(file: string): string | undefined {
  let folder = dirname(file);
  if (!existsSync(join(folder, '__init__.py'))) return undefined;
  const parts = basename(file) === '__init__.py' ? [] : [basename(file, '.py')];
  while (existsSync(join(folder, '__init__.py'))) {
    parts.unshift(basename(folder));
    folder = dirname(folder);
  }
  return parts.join('.');
}

export type Analyse = (file: string, options: { defaultInput: number[]; input?: number[] }) => ModelReport[];

/**
 * The analysis of a file as the editor and the CLI run it, with PyTorch's interpreter selected: its
 * imports of its neighbours are followed, and of the model packages installed there (torchvision),
 * found as the extension's probe finds them. Only models with a build.
 */
export async function createAnalyser(): Promise<Analyse> {
  const parser = (await loadGrammars(wasmDir)).parser('python');
  const probe = spawnSync(python, [resolve(repo, 'src/trainer/probe.py'), '--quick'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`probe.py failed (${probe.status}): ${probe.stderr.slice(-2000)}`);
  const { modelPackages } = JSON.parse(probe.stdout) as { modelPackages: Record<string, string | null> };
  return (file, options) => {
    const tree = parser.parse(readFileSync(file, 'utf8'));
    if (!tree) throw new Error(`no tree for ${file}`);
    const imports = new FileImports(parser, file, undefined, undefined, () => modelPackages);
    try {
      return analyzeTree(tree, { ...options, imports }).filter((r) => r.build !== undefined);
    } finally {
      imports.dispose();
      tree.delete();
    }
  };
}

export interface MeasureOptions {
  /** The files whose reported models are built, and whose other no-argument models count as misses. */
  files: CorpusFile[];
  /** Models asked for by name beside them (torchvision's factories), in their set: not enumerated. */
  extra?: (TruthRequest & { set: string })[];
  /** Inputs by `<file's base name> <build>`, where a file's comments give one. */
  givenInputs?: Record<string, number[]>;
  /** Also compare exact mode: each static report with PyTorch's answer laid on it. */
  exactMode?: boolean;
}

/** The analysis against PyTorch on every file given: one run of corpus_truth.py for all of them. */
export async function measure(options: MeasureOptions): Promise<Tally> {
  const analyse = await createAnalyser();
  const givenInputs = options.givenInputs ?? {};
  const setOf = new Map(options.files.map((f) => [f.file, f.set]));
  const modules = new Map(options.files.map((f) => [f.file, packageModule(f.file)]));
  const withModule = (file: string) => {
    const module = modules.get(file);
    return module === undefined ? {} : { module };
  };

  const requests: (TruthRequest & { set: string })[] = [];
  for (const { set, file } of options.files) {
    for (const report of analyse(file, { defaultInput })) {
      const build = report.build ?? '';
      requests.push({ set, file, ...withModule(file), build, input: givenInputs[`${basename(file)} ${build}`] ?? report.input.map((d) => d ?? 1) });
    }
  }
  requests.push(...(options.extra ?? []));

  const reply = askPyTorch(
    requests.map(({ file, module, build, input }) => ({ file, build, input, ...(module === undefined ? {} : { module }) })),
    options.files.map(({ file }) => ({ file, ...withModule(file) })),
  );
  const tally: Tally = { torch: reply.torch, compared: [], misses: [], unbuildable: [], exactMode: [] };
  // The analysis once per file and input, with the input PyTorch got.
  const analysed = new Map<string, ModelReport[]>();
  const reportFor = (file: string, input: number[], build: string) => {
    const key = `${file} ${input.join('x')}`;
    if (!analysed.has(key)) analysed.set(key, analyse(file, { defaultInput, input }));
    return analysed.get(key)?.find((r) => r.build === build);
  };
  reply.models.forEach((truth, index) => {
    const set = requests[index]?.set ?? '';
    if (!truth.ok || !truth.described) {
      const report = truth.stage === 'run' ? reportFor(truth.file, truth.input, truth.build) : undefined;
      tally.unbuildable.push({
        set,
        file: truth.file,
        build: truth.build,
        input: truth.input,
        error: truth.error ?? 'no result',
        ...(truth.stage === undefined ? {} : { stage: truth.stage }),
        ...(report === undefined ? {} : { report }),
      });
      return;
    }
    const report = reportFor(truth.file, truth.input, truth.build);
    if (!report) {
      tally.misses.push({ set, file: truth.file, build: truth.build });
      return;
    }
    tally.compared.push(compare(set, truth.file, report, truth.described));
    if (options.exactMode) {
      // Exact mode lays the helper's answer onto the static report: every layer must come out as PyTorch's.
      const parsed = safeParse(exactModelSchema, { name: report.name, error: null, ...truth.described });
      if (!parsed.ok) throw new Error(`${basename(truth.file)} ${truth.build}: PyTorch's answer does not fit exact mode's schema: ${parsed.error}`);
      const merged = withExactShapes(report, parsed.value, readFileSync(truth.file, 'utf8'));
      tally.exactMode.push(compare(set, truth.file, merged, truth.described));
    }
  });
  for (const [file, builds] of Object.entries(reply.found)) {
    const reported = new Set(requests.filter((r) => r.file === file).map((r) => r.build));
    for (const build of builds) if (!reported.has(build)) tally.misses.push({ set: setOf.get(file) ?? '', file, build });
  }
  return tally;
}

export const percent = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole);

/** A set's figures: leaves exact in the models compared, models exact of those compared and missed. */
export function figures(tally: Tally, set: string) {
  const compared = tally.compared.filter((c) => c.set === set);
  const misses = tally.misses.filter((m) => m.set === set);
  const exactLayers = compared.reduce((n, c) => n + c.exactLayers, 0);
  const layers = compared.reduce((n, c) => n + c.layers, 0);
  const exactModels = compared.filter((c) => c.exact).length;
  const models = compared.length + misses.length;
  return { compared, misses, exactLayers, layers, exactModels, models, layerPercent: percent(exactLayers, layers), modelPercent: percent(exactModels, models) };
}
