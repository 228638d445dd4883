// PyTorch models from Python source: a small evaluator runs `__init__` (with helper methods,
// loops, comprehensions and user-defined blocks) to build the module tree, then runs `forward`
// over abstract tensors whose shapes come from the shape engine. What it cannot follow becomes an
// unknown with its reason; it never guesses, never throws on user text, and stops at a step budget.
// The evaluator is in ./python, a file per concern; this is its entry point.
import type { ModelReport, SourceRange } from './report';
import type { ScriptImports } from './tfjs';
import type { Node } from './syntax';
import { bindings, namesUsed } from './bindings';
import { fitToData } from './python/dataFit';
import { initialisingApply } from './python/loops';
import { analyzeModel } from './python/modelReport';
import { type ClassInfo, Program, PythonFile } from './python/program';

/** How `from module import name` finds another Python file of the program (see imports.ts). */
export interface PythonImports {
  /** The file `module` names with `level` leading dots, seen from the file at `from` (undefined: the file analysed). */
  resolve(module: string, level: number, from: string | undefined): { path: string; root: Node; version: string } | undefined;
  /** The version of a file read before (a modification time, an editor's version), to tell whether a cached report still holds. */
  version(path: string): string | undefined;
}

export interface LineRange {
  start: number;
  end: number;
}

export interface AnalysisOptions {
  /** Other files of the program, for classes and functions the file imports (Python) and its modules' imports (TF.js); without it, imports stay unknown. */
  imports?: PythonImports & ScriptImports;
  /** One sample's shape (no batch) when neither an annotation nor the first layer tells. */
  defaultInput: number[];
  /** The whole input shape, batch included, overriding annotations and inference. */
  input?: number[];
  /** Evaluation steps per model before the analysis gives up on it. */
  stepBudget?: number;
  /** False: every instantiation is evaluated, none copied from an earlier one (the memo's tests compare the two). */
  memoize?: boolean;
  /**
   * Only the classes, factories and Sequentials written across these lines (0-based, inclusive):
   * what is on screen, answered before the rest of a file opened cold. Instances are left to the
   * whole file's analysis (whether one gets a lens depends on the classes' reports).
   */
  within?: readonly LineRange[];
}

/**
 * Reports kept between analyses of one document. A model is analysed again only when something it
 * depends on changed: its text or position, the lines just above it (an annotation), a class or
 * function of the file it used, an imported file it read, or a module-level statement that binds a
 * name it read (moduleContext).
 */
export class AnalysisCache {
  /** By `kind:name`; a function that turned out not to build a model is remembered as such. */
  readonly entries = new Map<string, CacheEntry>();
  /** The module-level statements of the last analysis, by text: what each binds and reads. */
  readonly statements = new Map<string, StatementKind>();
}

interface CacheEntry {
  key: string;
  reads: ReadonlySet<string>;
  uses: Map<string, string>;
  files: Map<string, string>;
  report: ModelReport | undefined;
  /** A factory that never reads its own name: its key with that name blanked, by which a renamed copy finds this report. */
  renamable?: { name: string; key: string };
}

/**
 * Analyses every nn.Module subclass, top-level nn.Sequential, model factory (a module-level
 * function that returns a model) and module-level instance built with arguments in a parsed file.
 */
export function analyzePython(root: Node, options: AnalysisOptions, cache = new AnalysisCache()): ModelReport[] {
  const program = new Program(options.imports);
  const file = new PythonFile(root, undefined, program);
  const lines = root.text.split('\n');
  const signature = (node: Node) => {
    const { row, column } = node.startPosition;
    return `${row}:${column}\n${lines.slice(Math.max(0, row - 3), row).join('\n')}\n${node.text}`;
  };
  const { within } = options;
  const settings = JSON.stringify({ ...options, imports: undefined, within: undefined });
  const statements = moduleStatements(file, cache.statements);
  const definition = (used: string) => (used.startsWith('def:') ? file.functions.get(used.slice(4)) : file.classes.get(used)?.node);
  const reports: ModelReport[] = [];
  const present = new Set<string>();
  const usesHold = (uses: CacheEntry['uses'], except?: string) =>
    [...uses].every(([name, used]) => {
      if (name === except) return true;
      const node = definition(name);
      return node !== undefined && signature(node.parent?.type === 'decorated_definition' ? node.parent : node) === used;
    });
  const filesHold = (entry: CacheEntry) => [...entry.files].every(([path, version]) => options.imports?.version(path) === version);
  /** `extra`: what else its answer depends on (the call that builds a class that needs arguments); `everything`: every module-level statement. */
  /** `run` gives no report for what is no model, but still what that answer depends on: a class's edit may make it one. */
  /** `ownName`: a factory's name, which labels its report and, unless it reads it, changes nothing else. */
  const analyzeCached = (id: string, node: Node, run: () => { report: ModelReport | undefined; used: Set<ClassInfo>; usedFunctions: Set<Node>; globalReads: Set<string> }, extra = '', everything = false, ownName?: Node): void => {
    if (within && (everything || !within.some((lines) => node.startPosition.row <= lines.end && node.endPosition.row >= lines.start))) return;
    present.add(id);
    const keyFor = (reads: ReadonlySet<string>, text = signature(node)) => `${settings}\u0000${text}\u0000${extra}\u0000${moduleContext(statements, everything ? '*' : reads)}`;
    const cached = cache.entries.get(id);
    if (cached && cached.key === keyFor(cached.reads) && usesHold(cached.uses) && filesHold(cached)) {
      if (cached.report) reports.push(cached.report);
      return;
    }
    const declaration = node.parent?.type === 'decorated_definition' ? node.parent : node;
    const nameless = ownName && labelOnly(declaration, ownName) ? namelessSignature(signature(declaration), declaration, ownName) : undefined;
    const renamed = ownName && nameless !== undefined ? renamedEntry(node, ownName, nameless, keyFor) : undefined;
    if (renamed) {
      cache.entries.set(id, renamed);
      if (renamed.report) reports.push(renamed.report);
      return;
    }
    const result = run();
    const uses = new Map([...result.used].filter((c) => c.file === file).map((c) => [c.name, signature(c.node)]));
    for (const fn of result.usedFunctions) uses.set(`def:${fn.childForFieldName('name')?.text ?? ''}`, signature(fn.parent?.type === 'decorated_definition' ? fn.parent : fn));
    // A class or function it used may be changed by a module-level statement (`Net.expansion = 2`) as by its own text.
    const reads = new Set([...result.globalReads, ...[...uses.keys()].map((name) => name.replace(/^def:/, ''))]);
    const entry: CacheEntry = { key: keyFor(reads), reads, uses, files: new Map(program.read), report: result.report };
    if (ownName && nameless !== undefined && !result.globalReads.has('*')) entry.renamable = { name: ownName.text, key: keyFor(without(reads, ownName.text), nameless) };
    cache.entries.set(id, entry);
    if (result.report) reports.push(result.report);
  };
  /**
   * Whether a factory's answer depends on its name only as its label: its definition names itself
   * nowhere else (no recursion, no `resnet20.__name__`), and no module-level statement binds it
   * (`resnet20 = wrap(resnet20)`) or, run for its effect, mentions it.
   */
  const labelOnly = (declaration: Node, name: Node): boolean =>
    !declaration.descendantsOfType('identifier').some((id) => id !== null && id.text === name.text && id.startIndex !== name.startIndex) &&
    !statements.conditional.some((statement) => statement.sets.has(name.text)) &&
    !statements.always.includes(name.text);
  /**
   * A factory whose name alone changed (a digit typed into `resnet1202`): the entry of the name it had,
   * gone from the file, whose blanked key is this one's and whose other uses hold, relabelled.
   */
  const renamedEntry = (node: Node, ownName: Node, nameless: string, keyFor: (reads: ReadonlySet<string>, text?: string) => string): CacheEntry | undefined => {
    for (const [id, entry] of cache.entries) {
      const renamable = entry.renamable;
      if (!renamable || present.has(id) || file.functions.has(renamable.name) || renamable.name === ownName.text) continue;
      const reads = without(entry.reads, renamable.name);
      // Its own definition (decorators included) is in the blanked key; the rest it used must hold.
      if (renamable.key !== keyFor(reads, nameless) || !usesHold(entry.uses, `def:${renamable.name}`) || !filesHold(entry)) continue;
      const report = entry.report && relabelled(entry.report, ownName, node);
      if (entry.report && !report) continue;
      const uses = new Map(entry.uses);
      uses.delete(`def:${renamable.name}`);
      if (entry.uses.has(`def:${renamable.name}`)) uses.set(`def:${ownName.text}`, signature(ownName.parent?.parent?.type === 'decorated_definition' ? ownName.parent.parent : (ownName.parent as Node)));
      const renamedReads = new Set([...reads, ...(entry.reads.has(renamable.name) ? [ownName.text] : [])]);
      return { key: keyFor(renamedReads), reads: renamedReads, uses, files: entry.files, report, renamable: { name: ownName.text, key: renamable.key } };
    }
    return undefined;
  };
  const instances = file.topLevelAssignments();
  const firstBound = new Map<string, number>();
  for (const { name, nameNode } of instances) if (!firstBound.has(name)) firstBound.set(name, nameNode.startIndex);
  const argumentsUsed = new Set<Node>();
  for (const cls of file.moduleClasses()) {
    // Its first module-level instance with arguments may be how it is built: its report depends on that call's text.
    const instance = instances.find((i) => i.callee === cls.name && i.built.childForFieldName('arguments')?.namedChildren.length);
    const builtBy = instance ? `${instance.built.startPosition.row}|${instance.built.text}` : '';
    analyzeCached(`class:${cls.name}`, cls.node, () => {
      // A class whose __init__ needs arguments is built as the file builds it: the annotation, else its first module-level instance.
      const annotated = file.annotations.argsFor(cls.node);
      const call = annotated ?? (file.needsArguments(cls) ? instance?.built : undefined);
      // A block that needs arguments nothing in the file gives (a ResNet's BasicBlock) has no build: PyTorch could not make one either.
      const unbuildable = !call && file.needsArguments(cls);
      const result = analyzeModel(file, options, 'class', cls.name, cls.node.childForFieldName('name') ?? cls.node, cls.node, unbuildable ? undefined : call ? `${cls.name}${argumentText(call)}` : `${cls.name}()`, (analysis) =>
        call ? analysis.evaluateCallArguments(call, (args, keywords) => analysis.instantiate(cls, args, keywords, cls.node)) : analysis.instantiate(cls, [], new Map(), cls.node),
      );
      if (unbuildable && result.report.output === null) {
        result.report.outputNote = `${cls.name} needs arguments the file does not give: build it at module level (model = ${cls.name}(…)) or write them above the class (# cnnlab: args …)`;
      }
      return result;
    }, builtBy);
  }
  // An instance whose arguments built its class's report is shown there, not again.
  const classBuilds = new Set(reports.filter((r) => r.kind === 'class').map((r) => r.build));
  for (const instance of instances) if (classBuilds.has(`${instance.callee}${argumentText(instance.built)}`)) argumentsUsed.add(instance.value);
  for (const fn of file.factories()) {
    const name = fn.childForFieldName('name');
    if (!name) continue;
    analyzeCached(
      `factory:${name.text}`,
      fn,
      () => {
        const result = analyzeModel(file, options, 'factory', name.text, name, fn, `${name.text}()`, (analysis) => analysis.callFactory(fn));
        // Only a function that returns a model is a factory.
        return isModel(result) ? result : { ...result, report: undefined };
      },
      '',
      false,
      name,
    );
  }
  // `resnet_big = partial(_resnet, width=256)` and `resnet18 = lambda: ResNet(…)` are factories too.
  const valueFactory = (name: string, nameNode: Node, value: Node) =>
    analyzeCached(`factory:${name}`, nameNode.parent ?? value, () => {
      const result = analyzeModel(file, options, 'factory', name, nameNode, value, `${name}()`, (analysis) => analysis.callFactoryValue(value));
      return isModel(result) ? result : { ...result, report: undefined };
    });
  for (const { name, nameNode, value } of file.lambdaFactories()) valueFactory(name, nameNode, value);
  for (const { name, nameNode, value, built, callee } of instances) {
    const extent = nameNode.parent ?? value;
    if (callee === 'partial' || callee === 'functools.partial') {
      valueFactory(name, nameNode, value);
    } else if (file.torchClass(callee) === 'Sequential') {
      analyzeCached(`sequential:${name}`, extent, () => analyzeModel(file, options, 'sequential', name, nameNode, value, name, (analysis) => analysis.evaluate(value, analysis.globals)));
    } else if (file.functions.has(callee) || (file.classes.has(callee) && !argumentsUsed.has(value) && built.childForFieldName('arguments')?.namedChildren.length) || isModelPackageCall(file, callee)) {
      // A module-level model as the file leaves it: built by a function of the file (`model = resnet20()`), a
      // class of it with arguments (`Net()` is the class's own report) or a package (`models.vgg16()`), then
      // changed by what follows (`model.classifier[6] = …`). Anything else is no model, and neither is an
      // instance of a class that is no nn.Module or that the analysis cannot read (`Counter(…)`).
      analyzeCached(`instance:${name}`, extent, () => {
        // `trained = train(model)` returns the model it was given: no model of its own, it is listed under its first name.
        let alias = false;
        const result = analyzeModel(file, options, 'instance', name, nameNode, value, name, (analysis) => {
          const model = analysis.moduleLevel(name);
          alias ||= [...analysis.globals.vars].some(([other, bound]) => other !== name && bound === model && (firstBound.get(other) ?? Infinity) < nameNode.startIndex);
          return model;
        });
        return isModel(result) && !alias ? result : { ...result, report: undefined };
        // Whether it is listed under another name depends on the other module-level names.
      }, '', true);
    }
  }
  // A part of the file analysed leaves the rest's reports where they are.
  if (!within) for (const id of cache.entries.keys()) if (!present.has(id)) cache.entries.delete(id);
  return fitToData(file, reports);
}

function without(names: ReadonlySet<string>, name: string): Set<string> {
  const rest = new Set(names);
  rest.delete(name);
  return rest;
}

/** A function's signature (its position, the lines above it and its text) with its name blanked; undefined where the name is not where the text has it. */
function namelessSignature(signature: string, fn: Node, name: Node): string | undefined {
  const text = fn.text;
  const at = name.startIndex - fn.startIndex;
  if (!signature.endsWith(text) || text.slice(at, at + name.text.length) !== name.text) return undefined;
  return `${signature.slice(0, signature.length - text.length)}${text.slice(0, at)}\u0001${text.slice(at + name.text.length)}`;
}

/**
 * A factory's report under its new name: its name, build, range and extent, and what pointed at its
 * name. Undefined where anything else of it lies on the name's line (a one-line factory's layers
 * would have moved along the line).
 */
function relabelled(report: ModelReport, name: Node, fn: Node): ModelReport | undefined {
  const row = report.range.start.line;
  const onRow = (range: SourceRange) => range !== report.range && (range.start.line === row || range.end.line === row);
  if (report.layers.some((l) => onRow(l.range)) || report.diagnostics.some((d) => onRow(d.range) || d.related?.some((r) => onRow(r.range))) || report.incomplete?.some((i) => onRow(i.range))) return undefined;
  const range = name.range;
  const moved = <T extends { range: SourceRange }>(item: T): T => (item.range === report.range ? { ...item, range } : item);
  return {
    ...report,
    name: name.text,
    build: `${name.text}()`,
    range,
    extent: fn.range,
    diagnostics: report.diagnostics.map(moved),
    ...(report.incomplete ? { incomplete: report.incomplete.map(moved) } : {}),
  };
}

/** A value a lens may call a model: a module it built (with layers or an output), not an instance of a class that is no nn.Module or that it cannot read; or a model package's model it could not read, said so. */
function isModel(result: ReturnType<typeof analyzeModel>): boolean {
  return ((result.report.output !== null || result.report.layers.length > 0) && !result.notModule) || result.unreadModel === true;
}

/** The argument list of a call as written, for the expression that builds the model: `(BasicBlock, [2, 2, 2, 2])`. */
function argumentText(call: Node): string {
  return call.childForFieldName('arguments')?.text ?? '()';
}

/** A call of something imported from outside torch itself (`models.vgg16`, `timm.create_model`): it may build a model; torch.nn's layers are layers. */
function isModelPackageCall(file: PythonFile, callee: string): boolean {
  const from = file.importedFrom.get(callee.split('.')[0] ?? '');
  return from !== undefined && from !== 'torch' && !from.startsWith('torch.');
}

/**
 * A module-level statement (not a definition) as a cached report depends on it: always (an import,
 * a call run for its effect, what binds no name it can tell), or only where it binds a name the
 * model read, or a name read by such a statement in turn. A bare expression without a call (a
 * notebook's `model` to display it, a number being typed) changes nothing and is left out, as is
 * `model.apply(init)` of an `init` that only initialises weights (loops.ts).
 */
interface ModuleStatement {
  text: string;
  sets: ReadonlySet<string>;
  uses: ReadonlySet<string>;
}

interface ModuleStatements {
  /** The statements every model depends on, as one text, and the names they read. */
  always: string;
  alwaysReads: ReadonlySet<string>;
  conditional: ModuleStatement[];
}

function moduleStatements(file: PythonFile, known: AnalysisCache['statements']): ModuleStatements {
  const always: string[] = [];
  const alwaysReads = new Set<string>();
  const conditional: ModuleStatement[] = [];
  const seen = new Map<string, StatementKind>();
  for (const statement of file.root.namedChildren) {
    if (!statement || /^(class_definition|function_definition|decorated_definition|comment)$/.test(statement.type)) continue;
    // As the evaluator leaves it out (its answer depends on the function applied, not on the statement's text alone).
    if (initialisingApply(statement, file)) continue;
    // What a statement binds and reads follows from its text: worked out once while the text stays (a notebook re-reads 100 cells a keystroke).
    const kind = known.get(statement.text) ?? statementKind(statement);
    seen.set(statement.text, kind);
    const text = `${statement.startPosition.row}|${statement.text}`;
    if (kind === 'inert') continue;
    if ('sets' in kind) conditional.push({ text, ...kind });
    else {
      always.push(text);
      for (const name of kind.reads) alwaysReads.add(name);
    }
  }
  known.clear();
  for (const [text, kind] of seen) known.set(text, kind);
  return { always: always.join('\n'), alwaysReads, conditional };
}

/** How a module-level statement counts for the models (ModuleStatement), from its syntax. */
type StatementKind = 'inert' | { reads: ReadonlySet<string> } | Omit<ModuleStatement, 'text'>;

function statementKind(statement: Node): StatementKind {
  if (/^(import_statement|import_from_statement|future_import_statement)$/.test(statement.type)) return { reads: new Set() };
  const calls = statement.descendantsOfType('call').length > 0;
  const inner = statement.type === 'expression_statement' ? statement.namedChildren : [];
  const effects = /assignment|named_expression/;
  if (!calls && inner.length > 0 && inner.every((child) => child !== null && !effects.test(child.type) && !child.descendantsOfType(['named_expression', 'assignment', 'augmented_assignment']).length)) return 'inert';
  const { names, changed } = bindings(statement);
  const sets = new Set([...names, ...changed]);
  // A call runs when the module is read unless it is the value of names it binds (evaluated when one is read).
  const lazy = !calls || (inner.length === 1 && inner[0]?.type === 'assignment' && plainTargets(inner[0].childForFieldName('left')));
  // Kept by text beyond this tree: what it reads is read now.
  if (sets.size > 0 && lazy) return { sets, uses: namesUsed(statement) };
  // What a statement run for its effect reads, every model depends on too.
  return { reads: namesUsed(statement) };
}

/** `x` or `a, (b, c)`: names only, not `model.fc` or `x[0]`. */
function plainTargets(target: Node | null): boolean {
  if (!target) return false;
  if (target.type === 'identifier') return true;
  return /^(pattern_list|tuple_pattern|list_pattern)$/.test(target.type) && target.namedChildren.every((item) => item !== null && plainTargets(item));
}

/** The module-level statements a model that read `reads` depends on ('*': all), as one text. */
function moduleContext({ always, alwaysReads, conditional }: ModuleStatements, reads: ReadonlySet<string> | '*'): string {
  if (conditional.length === 0) return always;
  const all = reads === '*' || reads.has('*');
  const needed = new Set([...alwaysReads, ...(reads === '*' ? [] : reads)]);
  const kept = conditional.map(() => all);
  for (let grew = !all; grew; ) {
    grew = false;
    conditional.forEach((statement, i) => {
      if (kept[i] || ![...statement.sets].some((name) => needed.has(name))) return;
      kept[i] = grew = true;
      for (const name of statement.uses) needed.add(name);
    });
  }
  return [always, ...conditional.filter((_, i) => kept[i]).map((s) => s.text)].join('\n');
}
