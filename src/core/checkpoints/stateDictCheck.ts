// Will this checkpoint load? A model's state_dict as the analysis knows it (report.stateDict)
// against a checkpoint's tensors, as load_state_dict(strict=True) compares them: keys the model
// has that the checkpoint lacks, keys the checkpoint has that the model lacks, and shapes that
// differ, worded as PyTorch words them. Where the model's state_dict is not known whole, it says so.
// A TF.js model against a model.json is compared as model.setWeights takes weights: in order, by shape
// (TF.js names its weights after layer names it counts per session, so names do not pair them).
import type { ModelReport } from '../analysis/report';
import { sameShape } from '../analysis/shape';
import type { Checkpoint } from './checkpoint';

export interface StateDictCheck {
  model: string;
  checkpoint: string;
  /** The model's state_dict is known whole: the lists below are PyTorch's. */
  known: boolean;
  /** Why it is not known whole. */
  unknown: string[];
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; checkpoint: number[]; model: readonly number[]; from?: string }[];
  /** Tensors whose key and shape agree, and their elements. */
  matched: number;
  matchedElements: number;
  /** Every key of the checkpoint starts with `module.` (saved from nn.DataParallel) and, without it, they agree better. */
  prefix?: string;
  /** load_state_dict(strict=True) would succeed. */
  loads: boolean;
  /** A TF.js model and a model.json: compared in order, as model.setWeights does; worded as TF.js words it. */
  tfjs?: { expected: number; given: number };
}

export function checkStateDict(model: ModelReport, checkpoint: Checkpoint): StateDictCheck {
  if (!comparable(model, checkpoint)) {
    const why = model.kind === 'tfjs' ? `${model.name} is a TF.js model: it is checked against a TF.js model.json` : `${model.name} is a PyTorch model: it is checked against a PyTorch checkpoint, not a TF.js model.json`;
    return { model: model.name, checkpoint: checkpoint.path, known: false, unknown: [why], missing: [], unexpected: [], mismatched: [], matched: 0, matchedElements: 0, loads: false };
  }
  return checkTensors(model, checkpoint.path, checkpointTensors(checkpoint));
}

/** A PyTorch model against a PyTorch checkpoint, a TF.js model against a model.json. */
const comparable = (model: ModelReport, checkpoint: Checkpoint) => (model.kind === 'tfjs') === (checkpoint.format === 'TF.js');

/** A checkpoint's tensors by key, as its state_dict holds them. */
export function checkpointTensors(checkpoint: Checkpoint): Map<string, number[]> {
  return new Map(checkpoint.layers.flatMap((layer) => layer.parameters).map((t) => [t.name, t.shape]));
}

type Expected = NonNullable<ModelReport['stateDict']>;

/** A model's state_dict against tensors by key (a checkpoint's, or what code hands load_state_dict). */
export function checkTensors(model: ModelReport, path: string, tensors: Map<string, number[]>): StateDictCheck {
  const expected = model.stateDict ?? { entries: [], unknown: [`the analysis lists no weights of ${model.name}`] };
  if (model.kind === 'tfjs') return checkInOrder(model, path, expected, tensors);
  const compare = (keys: Map<string, number[]>) => {
    const present = expected.entries.filter(({ key, optional }) => keys.has(key) || !optional);
    const missing = present.filter(({ key }) => !keys.has(key)).map(({ key }) => key);
    const known = new Set(expected.entries.map((e) => e.key));
    const unexpected = [...keys.keys()].filter((key) => !known.has(key));
    return { missing, unexpected, ...comparePairs(present.flatMap(({ key, shape }) => (keys.has(key) ? [{ key, shape, saved: keys.get(key) as number[] }] : []))) };
  };
  const result = compare(tensors);
  const stripped = [...tensors.keys()].every((key) => key.startsWith('module.')) ? compare(new Map([...tensors].map(([k, v]) => [k.slice('module.'.length), v]))) : undefined;
  const differences = (r: typeof result) => r.missing.length + r.unexpected.length + r.mismatched.length;
  return {
    ...verdict(model, path, expected, result, differences(result) === 0),
    ...(stripped && differences(stripped) < differences(result) ? { prefix: 'module.' } : {}),
  };
}

/** TF.js's model.setWeights: the model's weights and the given ones pair up in order, and must agree in number and shape. */
function checkInOrder(model: ModelReport, path: string, expected: Expected, tensors: Map<string, number[]>): StateDictCheck {
  const given = [...tensors];
  const { entries } = expected;
  const pairs = entries.slice(0, given.length).map(({ key, shape }, i) => {
    const [name, saved] = given[i] as [string, number[]];
    return { key, shape, saved, ...(name !== key ? { from: name } : {}) };
  });
  const found = { missing: entries.slice(given.length).map((e) => e.key), unexpected: given.slice(entries.length).map(([key]) => key), ...comparePairs(pairs) };
  return { ...verdict(model, path, expected, found, entries.length === given.length && found.mismatched.length === 0), tfjs: { expected: entries.length, given: given.length } };
}

/** A model's entries paired with the tensors given for them: those of another size, and those that match (an entry of unknown shape is neither). */
function comparePairs(pairs: { key: string; shape: readonly number[] | null; saved: number[]; from?: string }[]): Pick<StateDictCheck, 'mismatched' | 'matched' | 'matchedElements'> {
  const mismatched: StateDictCheck['mismatched'] = [];
  let matched = 0;
  let matchedElements = 0;
  for (const { key, shape, saved, from } of pairs) {
    if (!shape) continue;
    if (!sameShape(saved, shape)) mismatched.push({ key, checkpoint: saved, model: shape, ...(from !== undefined ? { from } : {}) });
    else {
      matched++;
      matchedElements += shape.reduce((a, b) => a * b, 1);
    }
  }
  return { mismatched, matched, matchedElements };
}

/** The check as both comparisons give it: it loads only where the state_dict is known whole and nothing differs. */
function verdict(model: ModelReport, path: string, expected: Expected, found: Pick<StateDictCheck, 'missing' | 'unexpected' | 'mismatched' | 'matched' | 'matchedElements'>, agrees: boolean): StateDictCheck {
  const known = expected.unknown.length === 0;
  return { model: model.name, checkpoint: path, known, unknown: expected.unknown, ...found, loads: known && agrees };
}

const size = (shape: readonly number[]) => `torch.Size([${shape.join(', ')}])`;

/** The check as PyTorch's error reads, or the one line that says it loads. */
export function formatStateDictCheck(check: StateDictCheck): string {
  if (check.tfjs) return formatInOrder(check, check.tfjs);
  const lines: string[] = [];
  if (check.loads) return `${check.checkpoint}: ${check.matched} tensors, all match ${check.model} (${check.matchedElements.toLocaleString('en-US')} values): load_state_dict(strict=True) loads it`;
  if (check.missing.length || check.unexpected.length || check.mismatched.length) {
    lines.push(`Error(s) in loading state_dict for ${check.model}:`);
    if (check.missing.length) lines.push(`\tMissing key(s) in state_dict: ${check.missing.map((k) => `"${k}"`).join(', ')}.`);
    if (check.unexpected.length) lines.push(`\tUnexpected key(s) in state_dict: ${check.unexpected.map((k) => `"${k}"`).join(', ')}.`);
    for (const m of check.mismatched) lines.push(`\tsize mismatch for ${m.key}: copying a param with shape ${size(m.checkpoint)} from checkpoint, the shape in current model is ${size(m.model)}.`);
  }
  if (check.prefix) lines.push(`Every key of ${check.checkpoint} starts with "${check.prefix}" (it was saved from nn.DataParallel): strip it, {k.removeprefix("${check.prefix}"): v for k, v in state_dict.items()}, or load it into model.module.`);
  if (!check.known) lines.push(`The analysis does not know ${check.model}'s state_dict whole, so this is not the whole answer:\n${check.unknown.slice(0, 8).map((u) => `  ${u}`).join('\n')}${check.unknown.length > 8 ? `\n  … and ${check.unknown.length - 8} more` : ''}`);
  return lines.join('\n');
}

/** As TF.js's setWeights throws (it stops at the first; every one is listed here). */
function formatInOrder(check: StateDictCheck, { expected, given }: { expected: number; given: number }): string {
  if (check.loads) return `${check.checkpoint}: ${check.matched} weights, all match ${check.model} (${check.matchedElements.toLocaleString('en-US')} values): model.setWeights takes them`;
  const lines: string[] = [];
  if (expected !== given || check.mismatched.length) {
    lines.push(`model.setWeights(the weights of ${check.checkpoint}) would throw:`);
    if (expected !== given) lines.push(`\tYou called setWeights(weights) on layer "${check.model}" with a weight list of length ${given}, but the layer was expecting ${expected} weights.`);
    for (const m of check.mismatched) lines.push(`\tLayer weight shape ${m.model.join(',')} not compatible with provided weight shape ${m.checkpoint.join(',')} (${m.key}${m.from ? `, ${m.from} in the file` : ''}).`);
  }
  if (!check.known) lines.push(`The analysis does not know ${check.model}'s weights whole, so this is not the whole answer:\n${check.unknown.slice(0, 8).map((u) => `  ${u}`).join('\n')}`);
  return lines.join('\n');
}

/** One key of a checkpoint held against a model: the shapes each has, and what load_state_dict makes of it. */
export interface StateDictRow {
  key: string;
  checkpoint: number[] | null;
  model: readonly number[] | null;
  status: 'match' | 'size mismatch' | 'missing' | 'unexpected' | 'filled in' | 'not known';
}

/** The check, and every key of both sides as a row (the model's in state_dict order, then the checkpoint's others). */
export interface StateDictTable {
  check: StateDictCheck;
  rows: StateDictRow[];
}

export function stateDictTable(model: ModelReport, checkpoint: Checkpoint): StateDictTable {
  const check = checkStateDict(model, checkpoint);
  // A TF.js model against a .pt, or a PyTorch one against a model.json: said, not compared.
  if (!comparable(model, checkpoint)) return { check, rows: [] };
  const tensors = checkpointTensors(checkpoint);
  const entries = model.stateDict?.entries ?? [];
  const row = (key: string, saved: number[] | null, shape: readonly number[] | null, optional = false): StateDictRow => ({
    key,
    checkpoint: saved,
    model: shape,
    status: !saved ? (optional ? 'filled in' : 'missing') : !shape ? 'not known' : sameShape(saved, shape) ? 'match' : 'size mismatch',
  });
  if (check.tfjs) {
    // In order, as setWeights pairs them.
    const given = [...tensors];
    const rows = Array.from({ length: Math.max(entries.length, given.length) }, (_, i): StateDictRow => {
      const entry = entries[i];
      const [name = '', saved = null] = given[i] ?? [];
      return entry ? row(entry.key, saved, entry.shape) : { key: name, checkpoint: saved, model: null, status: 'unexpected' };
    });
    return { check, rows };
  }
  const rows = entries.map(({ key, shape, optional }) => row(key, tensors.get(key) ?? null, shape, optional));
  const known = new Set(rows.map((r) => r.key));
  for (const [key, shape] of tensors) if (!known.has(key)) rows.push({ key, checkpoint: shape, model: null, status: 'unexpected' });
  return { check, rows };
}

/** The table beside the editor: a line that says whether it loads, then key, checkpoint shape, model shape and status, then PyTorch's words. */
export function formatStateDictTable({ check, rows }: StateDictTable, modelLabel: string, checkpointLabel: string): string {
  if (rows.length === 0 && !check.known) return `${modelLabel} against ${checkpointLabel}\n${check.unknown.join('\n')}\n`;
  const shape = (s: readonly number[] | null) => (s ? `[${s.join(', ')}]` : '—');
  const call = check.tfjs ? 'model.setWeights' : 'load_state_dict(strict=True)';
  const verdict = check.loads
    ? `${call} ${check.tfjs ? 'takes them' : 'loads it'}: ${check.matched} ${check.tfjs ? 'weights' : 'tensors'}, all match (${check.matchedElements.toLocaleString('en-US')} values).`
    : check.known
      ? `${call} would ${check.tfjs ? 'throw' : 'raise'}: ${[check.missing.length && `${check.missing.length} missing`, check.unexpected.length && `${check.unexpected.length} unexpected`, check.mismatched.length && `${check.mismatched.length} of another size`].filter(Boolean).join(', ')}.`
      : 'Not known whole: the analysis does not know every parameter of the model (below), so this is not the whole answer.';
  const header = ['key', 'checkpoint', 'model', ''];
  const table = [header, ...rows.map((r) => [r.key, shape(r.checkpoint), shape(r.model), r.status === 'match' ? '' : r.status])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const lines = table.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '─'.repeat(w)).join('  '));
  const words = check.loads ? '' : `\n\n${formatStateDictCheck(check)}`;
  return `${modelLabel} against ${checkpointLabel}\n${verdict}\n\n${lines.join('\n')}${words}\n`;
}
