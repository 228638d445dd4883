// The two ways a model report leaves the core: the CLI's JSON document and a torchinfo-like table.
import type { ModelReport } from './report';
import { formatShape } from './shape';

/** fp32 weights, in MB of 10^6 bytes as torchinfo counts them. */
export function paramsMegabytes(params: number): number {
  return (params * 4) / 1e6;
}

/** `cnn-lab shapes --json`: lines are 1-based, as editors and compilers print them. */
export function toJsonDocument(file: string, models: ModelReport[], ms?: number): object {
  return {
    file,
    models: models.map((m) => ({
      name: m.name,
      line: m.range.start.line + 1,
      input: m.input,
      output: m.output,
      ...(m.outputNote ? { outputNote: m.outputNote } : {}),
      totalParams: m.totalParams,
      trainableParams: m.trainableParams,
      exact: m.exact === true,
      layers: m.layers.map((l) => ({ name: l.name, type: l.type, line: l.range.start.line + 1, in: l.in, out: l.out, params: l.params, ...(l.note ? { note: l.note } : {}) })),
      diagnostics: m.diagnostics.map((d) => ({ line: d.range.start.line + 1, message: d.message, severity: d.severity })),
    })),
    ...(ms === undefined ? {} : { ms: Number(ms.toFixed(3)) }),
  };
}

/** 541094 → "541,094", as torchinfo prints counts. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatSummaryTable(model: ModelReport): string {
  const rows = model.layers.map((l) => [`${l.name} (${l.type})`, l.out ? formatShape(l.out) : `? ${l.note ?? ''}`.trim(), l.params ? formatCount(l.params) : '--']);
  const header = ['Layer (type)', 'Output shape', 'Param #'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('   ');
  const rule = '─'.repeat(line(header).length);
  return [
    `${model.name}: input ${formatShape(model.input)} (${model.inputSource}) → output ${formatShape(model.output)}${model.outputNote ? ` (${model.outputNote})` : ''}${model.exact ? ' [exact: run by PyTorch]' : ''}`,
    rule,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${formatCount(model.totalParams)}`,
    `Trainable params: ${formatCount(model.trainableParams)}`,
    `Params size (MB): ${paramsMegabytes(model.totalParams).toFixed(2)}`,
    ...model.diagnostics.map((d) => `${d.severity}: line ${d.range.start.line + 1}: ${d.message}`),
  ].join('\n');
}
