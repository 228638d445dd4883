// The two ways a model report leaves the core: the CLI's JSON document and a torchinfo-like table.
import type { ModelReport, SourceRange } from './report';
import { formatShape } from './shape';

/** fp32 weights, in MB of 10^6 bytes as torchinfo counts them. */
/** A model's input and outputs as its lens shows them, `[1, 28, 28, 1] → [1, 1] and [1, 10]`; an input nothing in the file tells is named the default. */
export function formatModelShapes(model: ModelReport): string {
  const input = `${formatShape(model.input)}${model.inputSource === 'default' ? ' (the default input)' : ''}`;
  const outputs = model.outputs?.length ? model.outputs.map((o) => formatShape(o)).join(' and ') : model.output ? formatShape(model.output) : `? ${model.outputNote ?? ''}`.trim();
  return `${input} → ${outputs}`;
}

export function paramsMegabytes(params: number): number {
  return (params * 4) / 1e6;
}

/** A 1-based line, as editors and compilers print them; in a notebook, within the cell `cell` (its index in `cells`, 0-based). */
function lineOf(range: SourceRange): { cell?: number; line: number } {
  return { ...('cell' in range && typeof range.cell === 'number' ? { cell: range.cell } : {}), line: range.start.line + 1 };
}

/** `cnn-lab shapes --json`. */
export function toJsonDocument(file: string, models: ModelReport[], ms?: number): object {
  return {
    file,
    models: models.map((m) => ({
      name: m.name,
      kind: m.kind,
      ...(m.build ? { build: m.build } : {}),
      ...lineOf(m.range),
      input: m.input,
      output: m.output,
      ...(m.outputs ? { outputs: m.outputs } : {}),
      ...(m.outputNote ? { outputNote: m.outputNote } : {}),
      totalParams: m.totalParams,
      trainableParams: m.trainableParams,
      exact: m.exact === true,
      ...(m.complete === undefined ? {} : { complete: m.complete, paramsKnown: m.paramsKnown !== false, incomplete: (m.incomplete ?? []).map((i) => ({ ...lineOf(i.range), reason: i.reason })) }),
      totalMacs: m.totalMacs ?? null,
      activationBytes: m.activationBytes ?? null,
      layers: m.layers.map((l) => ({
        name: l.name,
        type: l.type,
        ...lineOf(l.range),
        in: l.in,
        out: l.out,
        params: l.params,
        macs: l.macs ?? null,
        outputBytes: l.outputBytes ?? null,
        ...(l.receptiveField ? { receptiveField: l.receptiveField } : {}),
        ...(l.note ? { note: l.note } : {}),
      })),
      diagnostics: m.diagnostics.map((d) => ({
        ...lineOf(d.range),
        message: d.message,
        severity: d.severity,
        ...(d.related ? { related: d.related.map((r) => ({ ...lineOf(r.range), message: r.message })) } : {}),
      })),
    })),
    ...(ms === undefined ? {} : { ms: Number(ms.toFixed(3)) }),
  };
}

/** A model's parameters as the lens and the Model view show them: "≥ 4,949,604 params" when a part was not counted, the trainable ones when some are frozen. */
export function formatParams(model: ModelReport, count: (n: number) => string = formatCount): string {
  const atLeast = model.paramsKnown === false ? '≥ ' : '';
  const frozen = model.trainableParams !== model.totalParams ? ` (${atLeast}${count(model.trainableParams)} trainable)` : '';
  return `${atLeast}${count(model.totalParams)} params${frozen}`;
}

/** What the analysis could not follow, one line each: "line 86: the loop `while n - 1` is not followed (…)". */
export function incompleteLines(model: ModelReport, most = Infinity): string[] {
  const found = model.incomplete ?? [];
  const lines = found.slice(0, most).map((i) => `${whereIs(i.range)}: ${i.reason}`);
  if (found.length > most) lines.push(`… and ${found.length - most} more`);
  return lines;
}

/** "line 8", or "cell 2, line 3" in a notebook. */
function whereIs(range: SourceRange): string {
  const { cell, line } = lineOf(range);
  return `${cell === undefined ? '' : `cell ${cell + 1}, `}line ${line}`;
}

/** The lens's short word for an incomplete model: "incomplete: <first reason> (line N)". */
export function incompleteNote(model: ModelReport, width = 70): string | undefined {
  const [first] = model.incomplete ?? [];
  if (model.complete !== false || !first) return undefined;
  const reason = first.reason.replace(/\s+/g, ' ');
  return `incomplete: ${reason.length > width ? `${reason.slice(0, width - 1)}…` : reason} (line ${first.range.start.line + 1})`;
}

/** 541094 → "541,094", as torchinfo prints counts. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

const magnitudes: [string, number][] = [
  ['K', 1e3],
  ['M', 1e6],
  ['G', 1e9],
  ['T', 1e12],
];

/** 3318664 → "3.32 M": three significant digits in the largest unit that keeps them under 1000, for lenses and the Model view. */
export function formatCompact(n: number): string {
  if (Math.abs(n) < 1000) return String(n);
  let shown = '';
  // Rounding decides the unit: 999,999 is "1 M", not "1000 K".
  for (const [unit, size] of magnitudes) {
    shown = `${Number((n / size).toPrecision(3))} ${unit}`;
    if (Math.abs(n / size) < 999.5) break;
  }
  return shown;
}

/** torchinfo's "Total mult-adds (M): 3.32": the total in the largest unit it reaches. */
function multAddsLine(total: number | null | undefined): string {
  if (total === null || total === undefined) return "Total mult-adds: ? (a layer's cost is unknown)";
  const [unit, size] = [...magnitudes].reverse().find(([, s]) => total >= s) ?? ['', 1];
  return unit ? `Total mult-adds (${unit}): ${(total / size).toFixed(2)}` : `Total mult-adds: ${total}`;
}

function cell(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  return n ? formatCount(n) : '--';
}

export function formatSummaryTable(model: ModelReport): string {
  const rows = model.layers.map((l) => [`${l.name} (${l.type})`, l.out ? formatShape(l.out) : `? ${l.note ?? ''}`.trim(), l.params ? formatCount(l.params) : '--', cell(l.macs)]);
  const header = ['Layer (type)', 'Output shape', 'Param #', 'Mult-Adds'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('   ');
  const rule = '─'.repeat(line(header).length);
  return [
    `${model.name}: input ${formatShape(model.input)} (${model.inputSource}) → output${model.outputs?.length ? `s ${model.outputs.map((o) => formatShape(o)).join(' and ')}` : ` ${formatShape(model.output)}`}${model.outputNote ? ` (${model.outputNote})` : ''}${model.exact ? ' [exact: run by PyTorch]' : ''}`,
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${model.paramsKnown === false ? '≥ ' : ''}${formatCount(model.totalParams)}`,
    `Trainable params: ${model.paramsKnown === false ? '≥ ' : ''}${formatCount(model.trainableParams)}`,
    ...(model.trainableParams !== model.totalParams ? [`Non-trainable params: ${formatCount(model.totalParams - model.trainableParams)}`] : []),
    multAddsLine(model.totalMacs),
    rule,
    // The layers' outputs in float32, torchinfo's forward half (it doubles it for the gradients).
    `Forward pass size (MB): ${model.activationBytes === null || model.activationBytes === undefined ? '?' : (model.activationBytes / 1e6).toFixed(2)}`,
    `Params size (MB): ${paramsMegabytes(model.totalParams).toFixed(2)}`,
    ...model.diagnostics.flatMap((d) => [`${d.severity}: ${whereIs(d.range)}: ${d.message}`, ...(d.related ?? []).map((r) => `  ${whereIs(r.range)}: ${r.message}`)]),
    ...(model.complete === false ? ['', 'Incomplete: the static analysis could not follow what these lines do, so the numbers they touch are unknown (?) or lower bounds (≥):', ...incompleteLines(model).map((l) => `  ${l}`)] : []),
  ].join('\n');
}
