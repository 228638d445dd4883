// `cnn-lab`: CNN Lab from a terminal, for scripts, CI and checks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Parser } from '@vscode/tree-sitter-wasm';
import { analyzeTree } from '../core/analysis/analyze';
import { ExactShapes, exactRequests, withExactShapes } from '../core/analysis/exactShapes';
import { formatSummaryTable, toJsonDocument } from '../core/analysis/format';
import { diffModels, formatModelDiff, modelDiffJson } from '../core/analysis/modelDiff';
import { readCheckpoint } from '../core/checkpoints/checkpoint';
import { diffCheckpoints, formatCheckpointDiff } from '../core/checkpoints/checkpointDiff';
import { checkStateDict, formatStateDictCheck } from '../core/checkpoints/stateDictCheck';
import { diskReader, FileImports, type ModelPackages } from '../core/analysis/imports';
import { analyzeNotebook, type CellRange, NotebookError, readNotebook } from '../core/analysis/notebook';
import { exactModule } from '../core/analysis/notebookModule';
import { cellPlacer } from '../core/analysis/notebookView';
import { isNotebookPath, languageOfPath } from '../core/analysis/paths';
import type { ModelReport } from '../core/analysis/report';
import { loadGrammars } from '../core/analysis/syntax';
import { describeDevice } from '../core/pythonEnvironment';
import { searchPython } from './python';
import { data, dataUsage } from './data';
import { train, trainUsage } from './train';
import { version } from '../../package.json';

const usage = `Usage: cnn-lab <command> [options]

Commands:
${trainUsage}
${dataUsage}
  shapes FILE... [--input 1,3,32,32] [--class NAME] [--exact] [--json] [--timing]
                                    Tensor shapes and parameter counts of the models in PyTorch
                                    (.py), Jupyter notebooks (.ipynb) and TF.js (.ts, .js) files;
                                    --exact lets PyTorch run them (imports the files: trusted code only;
                                    of a notebook, only what its models need, never its other cells)
  diff A[:MODEL] B[:MODEL] [--json]  Two models side by side: layers aligned by name, then by order and
                                    kind, with shapes, parameters, mult-adds and what differs; of two
                                    checkpoints (.pt, model.json), each parameter's change
  check MODEL[:NAME] CHECKPOINT [--json]
                                    Would model.load_state_dict(torch.load(CHECKPOINT)) load? Its
                                    missing, unexpected and mismatched keys as PyTorch words them, read
                                    without Python; exit 0 when it loads strictly
  doctor [--python PATH] [--json]   Find the Python that trains PyTorch models and report what it can do
  help                              Show this help
  version                           Print the version

Exit codes: 0 success, 1 a run that failed or was cancelled (train), a model with errors (shapes), a checkpoint that would not load (check)
or an environment that cannot train (doctor), 2 bad usage or an unreadable file.`;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function doctor(args: string[]): Promise<number> {
  const pythonIndex = args.indexOf('--python');
  const python = pythonIndex >= 0 ? args[pythonIndex + 1] : undefined;
  if (pythonIndex >= 0 && !python) {
    process.stderr.write('cnn-lab doctor: --python needs a path\n');
    return 2;
  }
  const search = await searchPython(python);
  if (args.includes('--json')) {
    out(JSON.stringify(search, null, 2));
  } else {
    for (const { interpreter, result } of search.tried) out(`  tried ${interpreter}: ${result}`);
    const { found, interpreter } = search;
    if (found) {
      out(`Python      ${found.python} (${interpreter === found.executable ? interpreter : `${interpreter} → ${found.executable}`})`);
      out(`PyTorch     ${found.torch?.version ?? `not installed${found.torchError ? ` (${found.torchError})` : ''}`}`);
      out(`torchvision ${found.torchvision ?? 'not installed'}`);
      out(`Device      ${describeDevice(found)}`);
    } else {
      out('No Python interpreter could be started. Install Python 3, or name one with --python.');
    }
  }
  return search.found?.torch ? 0 : 1;
}

/** Reads `--name value` out of args, returning the rest. */
function takeOption(args: string[], name: string): { value: string | undefined; rest: string[] } {
  const index = args.indexOf(name);
  if (index < 0) return { value: undefined, rest: args };
  return { value: args[index + 1], rest: [...args.slice(0, index), ...args.slice(index + 2)] };
}

/**
 * Where torchvision and timm are installed, when a file names them: their model factories are read
 * (never run) from the interpreter a training run would use, probed once without importing torch.
 */
async function modelPackagesFor(files: readonly string[]): Promise<ModelPackageFolders> {
  const names = files.some((file) => {
    try {
      return /\b(torchvision|timm)\b/.test(readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  });
  return names ? ((await searchPython(undefined, true)).found?.modelPackages ?? {}) : {};
}

type ModelPackageFolders = ReturnType<ModelPackages>;

/** A file's models as the static analysis reads them (a notebook's cells as one program), or why the file cannot be read. */
function analyzeFile(file: string, grammars: Awaited<ReturnType<typeof loadGrammars>>, packages: ModelPackageFolders, input?: number[]): { models: ModelReport[]; text: string; notebook: boolean } | { problem: string } {
  const notebook = isNotebookPath(file);
  const language = notebook ? 'python' : languageOfPath(file);
  if (!language) return { problem: `${file} is not a Python (.py), notebook (.ipynb) or TF.js (.ts, .js) file` };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problem: `cannot read ${file}: ${(error as Error).message}` };
  }
  const imports = new FileImports(grammars.parser(language), resolvePath(file), diskReader, undefined, () => packages);
  const options = { defaultInput: [3, 32, 32], ...(input ? { input } : {}), imports };
  try {
    if (notebook) {
      const result = analyzeNotebook(text, grammars.parser(language), options);
      if (result instanceof NotebookError) return { problem: `${file}: ${result.message}` };
      for (const problem of result.problems) process.stderr.write(`cnn-lab: ${file}: ${problem}\n`);
      return { models: result.reports, text, notebook };
    }
    const tree = grammars.parser(language).parse(text);
    const models = tree ? analyzeTree(tree, options, undefined, language) : [];
    tree?.delete();
    return { models, text, notebook };
  } finally {
    imports.dispose();
  }
}

async function shapes(argv: string[]): Promise<number> {
  const inputOption = takeOption(argv, '--input');
  const classOption = takeOption(inputOption.rest, '--class');
  const flags = new Set(classOption.rest.filter((a) => a.startsWith('--')));
  const files = classOption.rest.filter((a) => !a.startsWith('--'));
  const input = inputOption.value?.split(/[,x×]/).map(Number);
  const unknownFlag = [...flags].find((f) => f !== '--json' && f !== '--timing' && f !== '--exact');
  if (files.length === 0 || unknownFlag || (input && !input.every((d) => Number.isInteger(d) && d > 0))) {
    process.stderr.write(`cnn-lab shapes: ${unknownFlag ? `unknown option ${unknownFlag}` : files.length === 0 ? 'name at least one file' : '--input takes sizes like 1,3,32,32'}\n`);
    return 2;
  }
  const grammars = await loadGrammars(join(__dirname, 'parsers'));
  const exact = flags.has('--exact') ? await startExactShapes() : undefined;
  if (exact === null) return 1;
  const packages = await modelPackagesFor(files);
  let status = 0;
  for (const file of files) {
    const started = performance.now();
    const analysed = analyzeFile(file, grammars, packages, input);
    if ('problem' in analysed) {
      process.stderr.write(`cnn-lab shapes: ${analysed.problem}\n`);
      status = 2;
      continue;
    }
    const { text, notebook } = analysed;
    let { models } = analysed;
    models = models.filter((m) => !classOption.value || m.name === classOption.value);
    const ms = performance.now() - started;
    const requests = exactRequests(models);
    if (exact && requests.length > 0) {
      // A notebook runs as a module of what its models need, never its other cells (notebookModule.ts).
      const run = notebook ? notebookExactModule(text, grammars.parser('python'), file) : { path: file, place: text };
      try {
        if (run instanceof Error) throw run;
        const results = new Map((await exact.shapes(run.path, requests)).map((r) => [r.name, r]));
        models = models.map((m) => {
          const result = results.get(m.name);
          return result ? withExactShapes(m, result, run.place) : m;
        });
      } catch (error) {
        process.stderr.write(`cnn-lab shapes: PyTorch could not run ${file}: ${(error as Error).message}\n`);
        status = 1;
      } finally {
        if (notebook && !(run instanceof Error)) rmSync(dirname(run.path), { recursive: true, force: true });
      }
    }
    if (models.some((m) => m.diagnostics.some((d) => d.severity === 'error')) && status === 0) status = 1;
    if (flags.has('--json')) out(JSON.stringify(toJsonDocument(file, models, flags.has('--timing') ? ms : undefined)));
    else {
      out(`${file}${flags.has('--timing') ? ` (${ms.toFixed(2)} ms)` : ''}`);
      // A notebook's lines count within each cell, so the table says which cell it starts from.
      const where = (m: ModelReport) => ('cell' in m.range ? `cell ${m.range.cell}, line ${m.range.start.line + 1}: ` : '');
      out(models.length ? models.map((m) => where(m) + formatSummaryTable(m)).join('\n\n') : '  no nn.Module classes or nn.Sequential models found');
    }
  }
  await exact?.dispose();
  return status;
}

/** A model named as FILE, or FILE:NAME (a class, a factory, a top-level model). */
function modelSpec(spec: string): { file: string; name?: string } {
  const named = /^(.+\.(?:py|ipynb|ts|js)):([A-Za-z_]\w*)$/.exec(spec);
  return named ? { file: named[1] ?? spec, name: named[2] ?? '' } : { file: spec };
}

/** The model FILE:NAME names, or the file's only one; else undefined, having said which there are. */
function pickModel(command: string, file: string, name: string | undefined, reports: readonly ModelReport[]): ModelReport | undefined {
  const models = reports.filter((m) => !m.definedElsewhere);
  const model = name ? models.find((m) => m.name === name) : models.length === 1 ? models[0] : undefined;
  if (!model) {
    const names = models.map((m) => m.name);
    process.stderr.write(`cnn-lab ${command}: ${name ? `${file} has no model ${name}${names.length ? ` (it has ${names.join(', ')})` : ''}` : names.length ? `${file} has ${names.length} models (${names.join(', ')}): name one, as ${file}:${names[0] ?? ''}` : `${file} has no models`}\n`);
  }
  return model;
}

async function diff(argv: string[]): Promise<number> {
  const specs = argv.filter((a) => a !== '--json');
  if (specs.length !== 2 || specs.some((a) => a.startsWith('--'))) {
    process.stderr.write(`cnn-lab diff: ${specs.find((a) => a.startsWith('--')) ? `unknown option ${specs.find((a) => a.startsWith('--'))}` : 'name two models, e.g. cnn-lab diff mnist_mlp.py cifar_cnn.py:Net'}\n`);
    return 2;
  }
  if (specs.every((spec) => /\.(pt|pth|json)$/.test(spec))) return diffCheckpointFiles(specs[0] ?? '', specs[1] ?? '', argv.includes('--json'));
  const grammars = await loadGrammars(join(__dirname, 'parsers'));
  const sides: { file: string; model: ModelReport }[] = [];
  const packages = await modelPackagesFor(specs.map((spec) => modelSpec(spec).file));
  for (const { file, name } of specs.map(modelSpec)) {
    const analysed = analyzeFile(file, grammars, packages);
    if ('problem' in analysed) {
      process.stderr.write(`cnn-lab diff: ${analysed.problem}\n`);
      return 2;
    }
    const model = pickModel('diff', file, name, analysed.models);
    if (!model) return 2;
    sides.push({ file, model });
  }
  const [a, b] = sides as [(typeof sides)[number], (typeof sides)[number]];
  const result = diffModels(a.model, b.model);
  out(argv.includes('--json') ? JSON.stringify(modelDiffJson(result, a.file, b.file)) : formatModelDiff(result, `${a.model.name} in ${a.file}`, `${b.model.name} in ${b.file}`));
  return 0;
}

/** `cnn-lab check MODEL[:NAME] CHECKPOINT`: would load_state_dict(strict=True) load it? Exit 0 when it would. */
async function check(argv: string[]): Promise<number> {
  const [modelArgument, checkpointPath, ...extra] = argv.filter((a) => a !== '--json');
  if (!modelArgument || !checkpointPath || extra.length || argv.some((a) => a.startsWith('--') && a !== '--json')) {
    process.stderr.write('cnn-lab check: name a model and a checkpoint, e.g. cnn-lab check cifar_cnn.py:Net model_cifar.pt\n');
    return 2;
  }
  const { file, name } = modelSpec(modelArgument);
  const analysed = analyzeFile(file, await loadGrammars(join(__dirname, 'parsers')), await modelPackagesFor([file]));
  if ('problem' in analysed) {
    process.stderr.write(`cnn-lab check: ${analysed.problem}\n`);
    return 2;
  }
  const model = pickModel('check', file, name, analysed.models);
  if (!model) return 2;
  let checkpoint;
  try {
    checkpoint = readCheckpoint(checkpointPath);
  } catch (error) {
    process.stderr.write(`cnn-lab check: ${(error as Error).message}\n`);
    return 2;
  }
  const result = checkStateDict(model, checkpoint);
  out(argv.includes('--json') ? JSON.stringify(result) : formatStateDictCheck(result));
  return result.loads ? 0 : 1;
}

/** Two checkpoints of a model (.pt, or a TF.js model.json), parameter by parameter, read without Python. */
function diffCheckpointFiles(a: string, b: string, json: boolean): number {
  const read = (path: string) => {
    try {
      return readCheckpoint(path);
    } catch (error) {
      process.stderr.write(`cnn-lab diff: ${(error as Error).message}\n`);
      return undefined;
    }
  };
  const [left, right] = [read(a), read(b)];
  if (!left || !right) return 2;
  const changes = diffCheckpoints(left, right);
  out(json ? JSON.stringify({ a, b, parameters: changes }) : formatCheckpointDiff(changes, a, b));
  return 0;
}

/** The module --exact runs for a notebook, in a folder of its own, and how its lines map to the cells. */
function notebookExactModule(json: string, parser: Parser, file: string): { path: string; place: (line: number) => CellRange | undefined } | Error {
  const notebook = readNotebook(json);
  if (notebook instanceof NotebookError) return notebook;
  const module = exactModule(notebook.cells, parser, dirname(resolvePath(file)));
  if (module instanceof NotebookError) return module;
  const path = join(mkdtempSync(join(tmpdir(), 'cnnlab-exact-')), 'notebook_model.py');
  writeFileSync(path, module.text);
  return { path, place: cellPlacer(module, notebook.cells) };
}

/** The PyTorch helper for --exact, or null (having said why) when no Python has torch. */
async function startExactShapes(): Promise<ExactShapes | null> {
  const { found, interpreter } = await searchPython();
  if (!found?.torch || interpreter === null) {
    process.stderr.write('cnn-lab shapes --exact: no Python with PyTorch was found (see `cnn-lab doctor`)\n');
    return null;
  }
  return new ExactShapes({ python: interpreter, script: join(__dirname, 'trainer', 'shapes.py'), onLog: () => undefined });
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'train':
      return train(rest);
    case 'shapes':
      return shapes(rest);
    case 'data':
      return data(rest);
    case 'diff':
      return diff(rest);
    case 'check':
      return check(rest);
    case 'doctor':
      return doctor(rest);
    case 'version':
    case '--version':
      out(version);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      out(usage);
      return 0;
    default:
      process.stderr.write(`cnn-lab: unknown command "${command}"\n\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`cnn-lab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
