// Will this load_state_dict call work? Each call the file makes (stateDictLoads.ts) checked before
// it runs: the checkpoint it names, read without Python (its keys and shapes), against the model it
// loads into as the analysis knows it, as load_state_dict compares them. Differences become a
// diagnostic on the call, worded as PyTorch words them, with the model's line for each key; a call
// that loads gets a hover saying so; where the model is not known whole, the hover says that instead.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { StateDictLoad } from '../analysis/python/stateDictLoads';
import type { AnalysisDiagnostic, ModelReport, SourceRange } from '../analysis/report';
import { type Checkpoint, CheckpointError, readCheckpoint } from './checkpoint';
import { checkpointTensors, checkTensors, formatStateDictCheck } from './stateDictCheck';

export interface CheckpointFinding {
  /** The load_state_dict call. */
  range: SourceRange;
  /** What a hover on the call says. */
  hover: string;
  /** What PyTorch would raise there, when it would. */
  diagnostic?: AnalysisDiagnostic;
  /** The checkpoint file read, when one was found. */
  file?: string;
}

/** A checkpoint read once per version of the file on disk: a notebook re-analysed on each keystroke reads it again only when training wrote it. */
const read = new Map<string, { stamp: string; checkpoint: Checkpoint | CheckpointError }>();

function cachedCheckpoint(path: string): Checkpoint | CheckpointError {
  const stat = statSync(path);
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const kept = read.get(path);
  if (kept?.stamp === stamp) return kept.checkpoint;
  let checkpoint: Checkpoint | CheckpointError;
  try {
    checkpoint = readCheckpoint(path);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    checkpoint = error;
  }
  read.set(path, { stamp, checkpoint });
  return checkpoint;
}

/**
 * Where torch.load finds a relative path: in the process's working directory, which is the
 * notebook's folder for Jupyter and, for a script, usually the folder it is in or one above it
 * (the workspace's root). The nearest that exists, looking up from the file's folder.
 */
export function locateCheckpoint(path: string, fromDir: string | undefined): string | undefined {
  if (isAbsolute(path)) return existsSync(path) ? path : undefined;
  for (let dir = fromDir; dir; ) {
    const candidate = join(dir, path);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** The model a load_state_dict call loads into: the instance the file names so, else the class or factory that built it. */
function modelOf(load: StateDictLoad, reports: readonly ModelReport[]): ModelReport | undefined {
  const name = load.target.replace(/\.module$/, '');
  const instance = reports.find((r) => r.kind === 'instance' && r.name === name);
  if (instance) return instance;
  const built = load.builtBy;
  if (!built) return undefined;
  return reports.find((r) => (r.kind === 'factory' || r.kind === 'class') && r.build === built.build);
}

const quoted = (key: string) => `'${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function checkLoads(loads: readonly StateDictLoad[], reports: readonly ModelReport[], fromDir: string | undefined): CheckpointFinding[] {
  return loads.flatMap((load) => checkLoad(load, reports, fromDir) ?? []);
}

/** One call: what its checkpoint gives, against the model it loads into; undefined where there is nothing to say (a state_dict bound to a name is checked where it is loaded). */
function checkLoad(load: StateDictLoad, reports: readonly ModelReport[], fromDir: string | undefined): CheckpointFinding | undefined {
  const file = locateCheckpoint(load.path, fromDir);
  const name = basename(load.path);
  if (!file) return { range: load.range, hover: `${load.path} is not in the workspace yet: CNN Lab checks it against the model once it is saved.` };
  const model = modelOf(load, reports);
  const checkpoint = cachedCheckpoint(file);
  const error = (message: string, fix?: AnalysisDiagnostic['fix']): CheckpointFinding => ({ range: load.range, file, hover: message, diagnostic: { range: load.range, message, severity: 'error', ...(fix ? { fix } : {}) } });
  if (checkpoint instanceof CheckpointError) return { range: load.range, file, hover: checkpoint.message, diagnostic: { range: load.range, message: checkpoint.message, severity: 'warning' } };
  const holder = checkpoint.holder;
  // `name = torch.load(PATH)` is a model only when the file holds a whole pickled one.
  if (load.kind === 'model') return holder && 'module' in holder ? pickledModel(load, holder.className, checkpointTensors(checkpoint), reports, name, file) : undefined;
  if (holder && 'module' in holder && load.key === undefined) {
    return error(`${name} holds a whole pickled model, not a state_dict: load_state_dict would raise "Expected state_dict to be dict-like". Use torch.load(…).state_dict(), or the model torch.load gives.`);
  }
  if (holder && 'under' in holder && load.key === undefined) {
    const others = holder.keys.filter((k) => k !== holder.under);
    const message = `${name} holds its weights under ${quoted(holder.under)}${others.length ? ` (beside ${others.slice(0, 4).map(quoted).join(', ')})` : ''}: load_state_dict(torch.load(…)) would find none of ${model?.name ?? load.target}'s keys (Unexpected key(s) in state_dict: ${holder.keys.map((k) => `"${k}"`).join(', ')}). Index it: torch.load(…)[${quoted(holder.under)}].`;
    const fix = load.loaded ? { title: `Load ${name}[${quoted(holder.under)}]`, range: { start: load.loaded.end, end: load.loaded.end }, newText: `[${quoted(holder.under)}]` } : undefined;
    return error(message, fix);
  }
  if (load.key !== undefined && (!holder || !('under' in holder) || holder.under !== load.key)) {
    const keys = holder && 'under' in holder ? holder.keys : undefined;
    return error(`${name} has no key ${quoted(load.key)}: torch.load would give ${keys ? `a dict of ${keys.map(quoted).join(', ')}` : 'the state_dict itself, whose keys are the tensors\''} (KeyError).`);
  }
  if (!model) {
    return { range: load.range, file, hover: `${name}: ${checkpoint.layers.flatMap((l) => l.parameters).length} tensors. CNN Lab does not know which model \`${load.target}\` is here, so it cannot check them against it.` };
  }
  const tensors = checkpointTensors(checkpoint);
  // The code strips a prefix on the way: what load_state_dict gets is the keys without it (`removeprefix` leaves others as they are).
  const { strip } = load;
  const given = strip === undefined ? tensors : new Map([...tensors].map(([key, shape]) => [key.startsWith(strip) ? key.slice(strip.length) : key, shape]));
  const check = checkTensors(model, name, given);
  if (!check.known) {
    return { range: load.range, file, hover: `${name}: not checked against ${model.name}, whose state_dict the analysis does not know whole:\n${check.unknown.slice(0, 6).join('\n')}` };
  }
  // strict=False lets keys be missing or unexpected; sizes must still match.
  const relevant = load.strict ? check : { ...check, missing: [], unexpected: [], loads: check.mismatched.length === 0 };
  if (relevant.loads || (relevant.missing.length === 0 && relevant.unexpected.length === 0 && relevant.mismatched.length === 0)) {
    return { range: load.range, file, hover: `${name}: ${check.matched} tensors, all match ${model.name} (${check.matchedElements.toLocaleString('en-US')} values)${load.strict ? '' : `; strict=False${check.missing.length + check.unexpected.length ? ` lets ${check.missing.length} missing and ${check.unexpected.length} unexpected keys pass` : ''}`}.` };
  }
  // The prefix is said below, with the fix that strips it.
  const unprefixed = { ...relevant };
  delete unprefixed.prefix;
  const message = formatStateDictCheck(unprefixed);
  const layerOf = (key: string) => model.layers.find((l) => l.name === key.slice(0, key.lastIndexOf('.')));
  const related = [...relevant.missing.map((key) => ({ key, text: `${key}: in ${model.name}, not in ${name}` })), ...relevant.mismatched.map((m) => ({ key: m.key, text: `${m.key}: [${m.model.join(', ')}] in ${model.name}, [${m.checkpoint.join(', ')}] in ${name}` }))]
    .flatMap(({ key, text }) => {
      const layer = layerOf(key);
      return layer ? [{ range: layer.range, message: text }] : [];
    })
    .slice(0, 20);
  const prefixed = check.prefix !== undefined;
  const fix = prefixed
    ? { title: `Strip the "module." prefix of ${name}'s keys`, range: load.argument.range, newText: `{k.removeprefix('module.'): v for k, v in ${load.argument.text}.items()}` }
    : undefined;
  const note = prefixed ? `\nEvery key of ${name} starts with "module." (it was saved from nn.DataParallel): strip it, or load it into a DataParallel model's .module.` : '';
  return { range: load.range, file, hover: message + note, diagnostic: { range: load.range, message: message + note, severity: 'error', ...(fix ? { fix } : {}), ...(related.length ? { related } : {}) } };
}

/**
 * `model = torch.load('whole.pt')`: the model as it was pickled, its layers the sizes they had then,
 * with the forward of the class as the file defines it now. Said where the class now builds other
 * tensors; and, wherever it is, that PyTorch 2.6 and later refuse such a file unless told otherwise.
 */
function pickledModel(load: StateDictLoad, className: string | undefined, tensors: Map<string, number[]>, reports: readonly ModelReport[], name: string, file: string): CheckpointFinding {
  const refusal =
    load.weightsOnly === 'False'
      ? ''
      : `\nPyTorch 2.6 and later load with weights_only=True and refuse a pickled model: torch.load(…, weights_only=False) runs the file's pickle (only for a file you trust); saving model.state_dict() and loading it into ${className ?? 'the model'}() avoids both.`;
  const model = className ? reports.find((r) => r.kind === 'class' && r.name === className && r.build !== undefined) : undefined;
  const check = model && checkTensors(model, name, tensors);
  if (!model || !check?.known || check.loads) {
    const about = !className
      ? `${name} holds a whole pickled model.`
      : !model
        ? `${name} holds a pickled ${className}, a class this file does not define: it is not checked.`
        : !check?.known
          ? `${name} holds a pickled ${className}; not checked against ${className} here, whose state_dict the analysis does not know whole.`
          : `${name} holds a pickled ${className}: ${check.matched} tensors, all as ${className} in this file builds them.`;
    const hover = about + refusal;
    return { range: load.range, file, hover, ...(refusal ? { diagnostic: { range: load.range, message: hover, severity: 'information' } } : {}) };
  }
  const [first] = check.mismatched;
  const differing = check.missing.length + check.unexpected.length + check.mismatched.length;
  const message = `${name} holds ${className} as it was pickled, ${differing} of its tensors unlike ${className} as this file defines it now${first ? ` (${first.key}: [${first.checkpoint.join(', ')}] saved, [${first.model.join(', ')}] now)` : ''}: torch.load gives the saved model, its layers the sizes they had then, run by today's forward.${refusal}`;
  return { range: load.range, file, hover: message, diagnostic: { range: load.range, message, severity: 'warning' } };
}

/** The folder relative checkpoint paths start from, for a file or notebook on disk. */
export const checkpointBase = (path: string | undefined) => (path ? dirname(resolve(path)) : undefined);
