// Will this checkpoint load? A model's state_dict as the analysis knows it (report.stateDict)
// against a checkpoint's tensors, as load_state_dict(strict=True) compares them: keys the model
// has that the checkpoint lacks, keys the checkpoint has that the model lacks, and shapes that
// differ, worded as PyTorch words them. Where the model's state_dict is not known whole, it says so.
// A TF.js model against a model.json is compared as model.setWeights takes weights: in order, by shape
// (TF.js names its weights after layer names it counts per session, so names do not pair them).
import type { ModelReport } from '../analysis/report';
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
  mismatched: { key: string; checkpoint: number[]; model: number[]; from?: string }[];
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
  if ((model.kind === 'tfjs') !== (checkpoint.format === 'TF.js')) {
    const why = model.kind === 'tfjs' ? `${model.name} is a TF.js model: it is checked against a TF.js model.json` : `${model.name} is a PyTorch model: it is checked against a PyTorch checkpoint, not a TF.js model.json`;
    return { model: model.name, checkpoint: checkpoint.path, known: false, unknown: [why], missing: [], unexpected: [], mismatched: [], matched: 0, matchedElements: 0, loads: false };
  }
  return checkTensors(model, checkpoint.path, checkpointTensors(checkpoint));
}

/** A checkpoint's tensors by key, as its state_dict holds them. */
export function checkpointTensors(checkpoint: Checkpoint): Map<string, number[]> {
  return new Map(checkpoint.layers.flatMap((layer) => layer.parameters).map((t) => [t.name, t.shape]));
}

/** A model's state_dict against tensors by key (a checkpoint's, or what code hands load_state_dict). */
export function checkTensors(model: ModelReport, path: string, tensors: Map<string, number[]>): StateDictCheck {
  const expected = model.stateDict ?? { entries: [], unknown: [`the analysis lists no weights of ${model.name}`] };
  if (model.kind === 'tfjs') return checkInOrder(model, path, expected, tensors);
  const compare = (keys: Map<string, number[]>) => {
    const missing: string[] = [];
    const mismatched: StateDictCheck['mismatched'] = [];
    let matched = 0;
    let matchedElements = 0;
    for (const { key, shape, optional } of expected.entries) {
      const saved = keys.get(key);
      if (!saved && optional) continue;
      if (!saved) missing.push(key);
      else if (shape && (saved.length !== shape.length || saved.some((d, i) => d !== shape[i]))) mismatched.push({ key, checkpoint: saved, model: shape });
      else if (shape) {
        matched++;
        matchedElements += shape.reduce((a, b) => a * b, 1);
      }
    }
    const known = new Set(expected.entries.map((e) => e.key));
    const unexpected = [...keys.keys()].filter((key) => !known.has(key));
    return { missing, unexpected, mismatched, matched, matchedElements };
  };
  const result = compare(tensors);
  const stripped = [...tensors.keys()].every((key) => key.startsWith('module.')) ? compare(new Map([...tensors].map(([k, v]) => [k.slice('module.'.length), v]))) : undefined;
  const differences = (r: typeof result) => r.missing.length + r.unexpected.length + r.mismatched.length;
  const known = expected.unknown.length === 0;
  return {
    model: model.name,
    checkpoint: path,
    known,
    unknown: expected.unknown,
    ...result,
    ...(stripped && differences(stripped) < differences(result) ? { prefix: 'module.' } : {}),
    loads: known && differences(result) === 0,
  };
}

/** TF.js's model.setWeights: the model's weights and the given ones pair up in order, and must agree in number and shape. */
function checkInOrder(model: ModelReport, path: string, expected: NonNullable<ModelReport['stateDict']>, tensors: Map<string, number[]>): StateDictCheck {
  const given = [...tensors];
  const { entries } = expected;
  const mismatched: StateDictCheck['mismatched'] = [];
  let matched = 0;
  let matchedElements = 0;
  entries.forEach(({ key, shape }, i) => {
    const [name, saved] = given[i] ?? [];
    if (!saved || !name || !shape) return;
    if (saved.length !== shape.length || saved.some((d, j) => d !== shape[j])) mismatched.push({ key, checkpoint: saved, model: shape, ...(name !== key ? { from: name } : {}) });
    else {
      matched++;
      matchedElements += shape.reduce((a, b) => a * b, 1);
    }
  });
  const known = expected.unknown.length === 0;
  return {
    model: model.name,
    checkpoint: path,
    known,
    unknown: expected.unknown,
    missing: entries.slice(given.length).map((e) => e.key),
    unexpected: given.slice(entries.length).map(([key]) => key),
    mismatched,
    matched,
    matchedElements,
    loads: known && entries.length === given.length && mismatched.length === 0,
    tfjs: { expected: entries.length, given: given.length },
  };
}

const size = (shape: number[]) => `torch.Size([${shape.join(', ')}])`;

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
  model: number[] | null;
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
  if ((model.kind === 'tfjs') !== (checkpoint.format === 'TF.js')) return { check, rows: [] };
  const tensors = checkpointTensors(checkpoint);
  if (check.tfjs) {
    // In order, as setWeights pairs them.
    const given = [...tensors];
    const entries = model.stateDict?.entries ?? [];
    const rows = Array.from({ length: Math.max(entries.length, given.length) }, (_, i): StateDictRow => {
      const entry = entries[i];
      const [name, saved] = given[i] ?? [undefined, null];
      const shape = entry?.shape ?? null;
      const status = !entry ? 'unexpected' : !saved ? 'missing' : !shape ? 'not known' : saved.length === shape.length && saved.every((d, j) => d === shape[j]) ? 'match' : 'size mismatch';
      return { key: entry?.key ?? name ?? '', checkpoint: saved ?? null, model: shape, status };
    });
    return { check, rows };
  }
  const rows: StateDictRow[] = (model.stateDict?.entries ?? []).map(({ key, shape, optional }) => {
    const saved = tensors.get(key) ?? null;
    const status = !saved ? (optional ? 'filled in' : 'missing') : !shape ? 'not known' : saved.length === shape.length && saved.every((d, i) => d === shape[i]) ? 'match' : 'size mismatch';
    return { key, checkpoint: saved, model: shape, status };
  });
  const known = new Set(rows.map((r) => r.key));
  for (const [key, shape] of tensors) if (!known.has(key)) rows.push({ key, checkpoint: shape, model: null, status: 'unexpected' });
  return { check, rows };
}

/** The table beside the editor: a line that says whether it loads, then key, checkpoint shape, model shape and status, then PyTorch's words. */
export function formatStateDictTable({ check, rows }: StateDictTable, modelLabel: string, checkpointLabel: string): string {
  if (rows.length === 0 && !check.known) return `${modelLabel} against ${checkpointLabel}\n${check.unknown.join('\n')}\n`;
  const shape = (s: number[] | null) => (s ? `[${s.join(', ')}]` : '—');
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
