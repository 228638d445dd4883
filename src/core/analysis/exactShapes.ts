// The client of the exact-shapes helper: one long-lived Python process (importing torch once),
// requests with ids that time out, and a helper stuck in user code killed and started afresh.
import { dirname, resolve as resolvePath } from 'node:path';
import { describeExit, type ExitReason, JsonLinesProcess } from '../process/jsonLinesProcess';
import { type ExactModel, shapesHelperMessage, type ShapesHelperMessage, type ShapesRequest } from '../protocol/shapes';
import type { LayerReport, ModelReport } from './report';

export type { ExactModel };

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

  /** Builds the named models of `file` in PyTorch and runs each on its input. */
  async shapes(file: string, models: { name: string; input: readonly number[] }[], timeoutMs = 30_000): Promise<ExactModel[]> {
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
          this.options.onLog(`exact shapes: helper ready (torch ${message.torch})`);
          hello?.();
        } else if (message.type === 'shapes') {
          settle(helper, message.id, message.error ? new ExactShapesError(message.error) : message.models);
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

/**
 * The static report with PyTorch's own numbers in place of the inferred ones. What PyTorch could
 * not run becomes a warning on the model, in its own words.
 */
export function withExactShapes(report: ModelReport, exact: ExactModel): ModelReport {
  if (exact.error !== null || !exact.layers) {
    const message = `PyTorch could not run ${report.name} on ${report.input.join('×')}: ${exact.error ?? 'no result'}`;
    return { ...report, diagnostics: [...report.diagnostics, { range: report.range, message, severity: 'warning' }] };
  }
  const layers = new Map(exact.layers.map((l) => [l.name, l]));
  return {
    ...report,
    exact: true,
    output: exact.output ?? null,
    totalParams: exact.totalParams ?? report.totalParams,
    trainableParams: exact.trainableParams ?? report.trainableParams,
    layers: report.layers.map((layer) => {
      const truth = layers.get(layer.name);
      if (!truth) return layer;
      const exactLayer: LayerReport = { ...layer, out: truth.out, params: truth.params };
      delete exactLayer.note; // the static analysis' reasons for not knowing no longer apply
      if (truth.out === null) exactLayer.note = 'not called in forward';
      return exactLayer;
    }),
  };
}
