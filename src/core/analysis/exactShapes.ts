// The client of the exact-shapes helper: one long-lived Python process (importing torch once),
// requests with ids that time out, and a helper stuck in user code killed and started afresh.
import { dirname, resolve as resolvePath } from 'node:path';
import { describeExit, type ExitReason, JsonLinesProcess } from '../process/jsonLinesProcess';
import { type ExactLayer, type ExactModel, type ExactModelRequest, type OutputShapes, SHAPES_PROTOCOL, shapesHelperMessage, type ShapesHelperMessage, type ShapesRequest } from '../protocol/shapes';
import type { LayerReport, ModelReport, SourceRange } from './report';

export type { ExactModel, ExactModelRequest };

export class ExactShapesError extends Error {
  override readonly name = 'ExactShapesError';
}

export interface ExactShapesOptions {
  python: string;
  /** src/trainer/shapes.py as shipped in dist/trainer. */
  script: string;
  onLog(line: string): void;
  /** How long the helper may take to import torch and say hello. */
  startTimeoutMs?: number;
}

interface Pending {
  resolve(models: ExactModel[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One helper process and the requests it owes answers to; a killed helper takes only its own down. */
interface Helper {
  process: JsonLinesProcess<ShapesHelperMessage, ShapesRequest>;
  ready: Promise<void>;
  pending: Map<number, Pending>;
}

export class ExactShapes {
  private helper: Helper | undefined;
  private nextId = 1;

  constructor(private readonly options: ExactShapesOptions) {}

  /** Builds the models of `file` in PyTorch, each by its build expression, and runs each on its input. */
  async shapes(file: string, models: ExactModelRequest[], timeoutMs = 30_000): Promise<ExactModel[]> {
    const helper = this.start();
    await helper.ready;
    const id = this.nextId++;
    return new Promise<ExactModel[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        helper.pending.delete(id);
        // It may be stuck in the user's code: only a fresh process is sure to answer the next request.
        if (this.helper === helper) this.helper = undefined;
        helper.process.kill();
        reject(new ExactShapesError(`PyTorch did not finish building the models within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      helper.pending.set(id, { resolve, reject, timer });
      // The helper runs in its own folder: a relative path would name a file there.
      if (!helper.process.send({ type: 'shapes', id, file: resolvePath(file), models })) settle(helper, id, new ExactShapesError('the PyTorch helper is not running'));
    });
  }

  private start(): Helper {
    if (this.helper?.process.running) return this.helper;
    let hello: (() => void) | undefined;
    let failed: ((error: Error) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      hello = resolve;
      failed = reject;
    });
    const startTimer = setTimeout(() => {
      failed?.(new ExactShapesError(`the PyTorch helper did not start within ${(this.options.startTimeoutMs ?? 60_000) / 1000} s`));
      child.kill();
    }, this.options.startTimeoutMs ?? 60_000);
    const pending = new Map<number, Pending>();
    const child: JsonLinesProcess<ShapesHelperMessage, ShapesRequest> = new JsonLinesProcess({
      command: this.options.python,
      args: [this.options.script],
      cwd: dirname(this.options.script),
      schema: shapesHelperMessage,
      onMessage: (message) => {
        if (message.type === 'hello') {
          clearTimeout(startTimer);
          // A helper from another version of CNN Lab would answer in fields this one rejects.
          if (message.protocol !== SHAPES_PROTOCOL) {
            failed?.(new ExactShapesError(`the PyTorch helper speaks protocol ${message.protocol}, not ${SHAPES_PROTOCOL}`));
            child.kill();
            return;
          }
          this.options.onLog(`exact shapes: helper ready (torch ${message.torch})`);
          hello?.();
        } else if (message.type === 'shapes') {
          // A helper stopped by its memory guard answers, then exits: the next request must not go to it.
          if (message.models.some((m) => m.cause?.kind === 'memory') && this.helper === helper) this.helper = undefined;
          settle(helper, message.id, message.models);
        } else {
          this.options.onLog(`exact shapes: helper error: ${message.message}`);
          if (message.id !== null) settle(helper, message.id, new ExactShapesError(message.message));
        }
      },
      onProtocolError: (line, problem) => this.options.onLog(`exact shapes: ignored a line that is not a message (${problem}): ${line}`),
      onStderr: (line) => this.options.onLog(`exact shapes [stderr] ${line}`),
    });
    void child.exited.then((reason: ExitReason) => {
      clearTimeout(startTimer);
      const error = new ExactShapesError(`the PyTorch helper ${describeExit(reason)}`);
      failed?.(error);
      for (const id of [...pending.keys()]) settle(helper, id, error);
      if (this.helper === helper) this.helper = undefined;
      this.options.onLog(`exact shapes: helper ${describeExit(reason)}`);
    });
    const helper: Helper = { process: child, ready, pending };
    this.helper = helper;
    return helper;
  }

  async dispose(): Promise<void> {
    await this.helper?.process.stop();
    this.helper = undefined;
  }
}

function settle(helper: Helper, id: number, result: ExactModel[] | Error): void {
  const request = helper.pending.get(id);
  if (!request) return;
  helper.pending.delete(id);
  clearTimeout(request.timer);
  if (result instanceof Error) request.reject(result);
  else request.resolve(result);
}

/** What PyTorch is asked to build: every report the static analysis knows how to build (not a block that needs arguments, not TF.js). */
export function exactRequests(reports: readonly ModelReport[]): ExactModelRequest[] {
  return reports.flatMap((report) => (report.build === undefined || report.kind === 'tfjs' ? [] : [{ name: report.name, build: report.build, input: report.input.map((d) => d ?? 1) }]));
}

/** float32, as the static analysis counts activation memory. */
const BYTES_PER_ELEMENT = 4;

/**
 * The static report with PyTorch's own numbers: every leaf module PyTorch has, in the order the
 * forward pass called them (those it never called last), each keeping the static layer's spec and
 * range when the names match, else placed on the line that constructed it, else on the model. The
 * static diagnostics stay. What PyTorch could not run becomes a warning on the model, in its own
 * words. `source`, the file's text, lets a layer placed by its line span that line's code; for a
 * module written from a notebook, it is what places a module line in its cell.
 */
export function withExactShapes(report: ModelReport, exact: ExactModel, source?: string | ((line: number) => SourceRange | undefined)): ModelReport {
  if (exact.error !== null || !exact.layers) {
    // What exact shapes lacks (a download the guard refused, a data file, a package) is not the model's fault, and said as such.
    const message = exact.cause ? `${report.name}: ${lacking(exact.cause)}. The static shapes stay.` : `PyTorch could not run ${report.name} on ${report.input.join('×')}: ${exact.error ?? 'no result'}`;
    return { ...report, diagnostics: [...report.diagnostics, { range: report.range, message, severity: exact.cause ? 'information' : 'warning' }] };
  }
  const known = new Map(report.layers.map((l) => [l.name, l]));
  let lines: string[] | undefined;
  const place = (line: number | null): SourceRange => {
    if (line === null) return report.range;
    if (typeof source === 'function') return source(line) ?? report.range;
    lines ??= source?.split(/\r\n|\r|\n/);
    const text = lines?.[line - 1] ?? '';
    return { start: { line: line - 1, character: text.length - text.trimStart().length }, end: { line: line - 1, character: text.trimEnd().length } };
  };
  const layers = exact.layers.map((truth) => exactLayer(truth, known.get(truth.name) ?? { range: place(truth.line) }));
  const merged: ModelReport = {
    ...report,
    exact: true,
    // PyTorch ran it: nothing is left that the static analysis could not follow.
    ...(report.complete === undefined ? {} : { complete: true, incomplete: [], paramsKnown: true }),
    input: exact.input ?? report.input,
    output: exact.output ?? null,
    totalParams: exact.totalParams ?? report.totalParams,
    trainableParams: exact.trainableParams ?? report.trainableParams,
    totalMacs: exact.totalMacs ?? null,
    activationBytes: layers.some((l) => l.outputBytes === null) ? null : layers.reduce((sum, l) => sum + (l.outputBytes ?? 0), 0),
    layers,
    ...(exact.leftOut?.length ? { exactLeftOut: exact.leftOut.map((left) => inCell(left, source)) } : {}),
  };
  delete merged.outputNote; // the static analysis' reasons for not knowing no longer apply
  const notes = [
    ...(exact.outputs ? [`returns ${formatOutputs(exact.outputs)}`] : merged.output === null ? ['forward returns no tensor'] : []),
    ...(exact.givenNone?.length ? [`run with ${exact.givenNone.map((name) => `${name}=None`).join(', ')}`] : []),
  ];
  if (notes.length) merged.outputNote = notes.join('; ');
  return merged;
}

/** A statement the helper left out, by its cell and line there when the module is a notebook's. */
function inCell(left: { line: number; text: string }, source: string | ((line: number) => SourceRange | undefined) | undefined): { line: number; text: string; cell?: number } {
  const placed = typeof source === 'function' ? source(left.line) : undefined;
  return placed && 'cell' in placed && typeof placed.cell === 'number' ? { line: placed.start.line + 1, text: left.text, cell: placed.cell } : left;
}

function lacking(cause: NonNullable<ExactModel['cause']>): string {
  const code = cause.code ? `\`${cause.code}\`` : 'its code';
  switch (cause.kind) {
    case 'refused':
    case 'memory':
      return cause.what;
    case 'missing-file':
      return `exact shapes could not build it: ${code} reads ${cause.what}, which is not here`;
    case 'missing-package':
      return `exact shapes could not build it: ${code} needs the package ${cause.what}, which the selected Python does not have (install it there, or select an interpreter that has it)`;
  }
}

/** PyTorch's numbers over what the static analysis knew of the layer (its spec, range, receptive field, error). */
function exactLayer(truth: ExactLayer, known: Partial<LayerReport> & Pick<LayerReport, 'range'>): LayerReport {
  const layer: LayerReport = {
    ...known,
    name: truth.name,
    type: truth.type,
    in: truth.in,
    out: truth.out,
    params: truth.params,
    macs: truth.macs,
    // as the static analysis counts it: the first output tensor of the last call, nothing for a layer never called
    outputBytes: truth.unseen ? null : truth.calls === 0 ? 0 : truth.out && truth.out.reduce((a, b) => a * b, BYTES_PER_ELEMENT),
  };
  delete layer.note;
  if (truth.unseen) layer.note = 'inside a TorchScript module, whose calls PyTorch hides from hooks: its shapes are not known';
  else if (truth.calls === 0) layer.note = 'not called in forward';
  else if (truth.outputs) layer.note = `returns ${formatOutputs(truth.outputs)}`;
  return layer;
}

/** `([1, 5, 20], ([1, 1, 20], [1, 1, 20]))`, as Python would print the tuple of shapes. */
function formatOutputs(outputs: OutputShapes): string {
  const item = (value: number[] | null | OutputShapes): string => (value === null ? 'None' : value.every((d) => typeof d === 'number') ? `[${value.join(', ')}]` : formatOutputs(value));
  return `(${outputs.map(item).join(', ')})`;
}
