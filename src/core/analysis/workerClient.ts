// The host's side of the analysis worker (worker.ts): requests by id, the reports a worker reuses
// put back, the editor's open files sent only when they changed, and a fresh worker after one dies.
import { Worker } from 'node:worker_threads';
import type { CheckpointFinding } from '../checkpoints/loadCheck';
import type { StateDictTable } from '../checkpoints/stateDictCheck';
import type { NotebookCell, NotebookModelReport } from './notebook';
import type { ModelReport } from './report';
import type { LanguageId, TextChange } from './syntax';
import type { LineRange } from './pytorch';
import type { AnalysisSettings, AnsweredReport, EditorText, WorkerRequest, WorkerResponse } from './workerProtocol';

/** A file open in the editor, which imports read as the editor has it. */
export interface OpenFile {
  path: string;
  version: number;
  text(): string;
}

export interface Analysed<R> {
  reports: R[];
  /** The files its imports read. */
  reads: string[];
  /** Its load_state_dict calls checked against the checkpoints they name. */
  checkpoints: CheckpointFinding[];
}

interface Waiting {
  key: string;
  sent: ModelReport[];
  resolve: (answer: Analysed<ModelReport>) => void;
  reject: (error: Error) => void;
  /** Told of the models on screen, answered before the rest (analyseFile's `visible`). */
  first?: (reports: ModelReport[]) => void;
}

export class AnalysisWorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** The worker's last answer per key, which the next may reuse reports of. */
  private readonly answered = new Map<string, ModelReport[]>();
  /** Check Against Model… requests, by id. */
  private readonly tables = new Map<number, { resolve: (table: StateDictTable) => void; reject: (error: Error) => void }>();
  /** The keys whose tree the worker holds: only those take incremental changes. */
  private readonly held = new Set<string>();
  /** The version of each open file the worker has, by path. */
  private readonly editorsSent = new Map<string, number>();
  private disposed = false;

  constructor(
    /** dist/analysisWorker.js */
    private readonly script: string,
    /** dist/parsers: the grammars. */
    private readonly parsersDir: string,
    /** The model files open in the editor, which imports read as the editor has them. */
    private readonly openFiles: () => Iterable<OpenFile>,
    /** Told when a worker stopped with requests unanswered (they are refused); the next request starts another. */
    private readonly onFailure: (error: Error) => void,
  ) {}

  /** Loads a language's grammar in the worker, before the first file needs it. */
  prepare(language: LanguageId): void {
    this.post({ type: 'prepare', language });
  }

  /**
   * A file's models. With `first` and the lines on screen, a file the worker does not hold yet (one
   * opened) has the models written there answered first, to `first`, then all of them.
   */
  analyseFile(
    key: string,
    file: { path?: string; language: LanguageId; version: number; text: string; changes: TextChange[] | undefined },
    settings: AnalysisSettings,
    onScreen?: { visible: LineRange[]; first: (reports: ModelReport[]) => void },
  ): Promise<Analysed<ModelReport>> {
    const { changes, ...rest } = file;
    const incremental = this.held.has(key) && changes !== undefined;
    const cold = !this.held.has(key) && onScreen !== undefined && onScreen.visible.length > 0;
    const request = this.request(key, rest.path, settings, (id, common) => ({ type: 'file', id, ...common, ...rest, ...(incremental ? { changes } : {}), ...(cold ? { visible: onScreen.visible } : {}) }), cold ? onScreen.first : undefined);
    // The worker keeps the file's text as an editor's: no need to send it again for imports.
    if (rest.path) this.editorsSent.set(rest.path, rest.version);
    return request;
  }

  analyseNotebook(key: string, path: string | undefined, cells: NotebookCell[], settings: AnalysisSettings): Promise<Analysed<NotebookModelReport>> {
    return this.request(key, path, settings, (id, common) => ({ type: 'notebook', id, ...common, cells })) as Promise<Analysed<NotebookModelReport>>;
  }

  /** A model of the key's last analysis against a checkpoint, key by key: ask after an analysis of the key has answered. */
  stateDictTable(key: string, model: string, checkpoint: string): Promise<StateDictTable> {
    if (this.disposed) return Promise.reject(new Error('the analysis was closed'));
    if (!this.held.has(key) || !this.worker) return Promise.reject(new Error('the file has not been analysed'));
    const id = this.nextId++;
    const answer = new Promise<StateDictTable>((resolve, reject) => this.tables.set(id, { resolve, reject }));
    this.post({ type: 'stateDict', id, key, model, checkpoint });
    return answer;
  }

  forget(key: string): void {
    this.held.delete(key);
    this.answered.delete(key);
    if (this.worker) this.post({ type: 'forget', key });
  }

  /** Every tree and cache dropped, in the worker and here. */
  forgetAll(): void {
    this.held.clear();
    this.answered.clear();
    if (this.worker) this.post({ type: 'forgetAll' });
  }

  dispose(): void {
    this.disposed = true;
    void this.worker?.terminate();
    this.stopped(new Error('the analysis was closed'));
  }

  private request(
    key: string,
    path: string | undefined,
    settings: AnalysisSettings,
    make: (id: number, common: { key: string; path?: string; settings: AnalysisSettings; editors: EditorText[] }) => WorkerRequest,
    first?: (reports: ModelReport[]) => void,
  ): Promise<Analysed<ModelReport>> {
    if (this.disposed) return Promise.reject(new Error('the analysis was closed'));
    const id = this.nextId++;
    const answer = new Promise<Analysed<ModelReport>>((resolve, reject) => this.waiting.set(id, { key, sent: [], resolve, reject, ...(first ? { first } : {}) }));
    this.post(make(id, { key, ...(path ? { path } : {}), settings, editors: this.changedEditors() }));
    this.held.add(key);
    return answer;
  }

  /** The open files the worker does not have as they are now, and those closed since. */
  private changedEditors(): EditorText[] {
    const changed: EditorText[] = [];
    const open = new Set<string>();
    for (const file of this.openFiles()) {
      open.add(file.path);
      if (this.editorsSent.get(file.path) === file.version) continue;
      this.editorsSent.set(file.path, file.version);
      changed.push({ path: file.path, version: file.version, text: file.text() });
    }
    for (const [path, version] of this.editorsSent) {
      if (open.has(path)) continue;
      this.editorsSent.delete(path);
      changed.push({ path, version });
    }
    return changed;
  }

  private post(message: WorkerRequest): void {
    this.started().postMessage(message);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, { workerData: { parsersDir: this.parsersDir } });
    // An idle worker does not keep a process (the CLI's, a test's) alive.
    worker.unref();
    worker.on('message', (response: WorkerResponse) => this.answer(response));
    worker.on('error', (error) => this.failed(worker, error));
    worker.on('exit', (code) => this.failed(worker, new Error(`the analysis worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private answer(response: WorkerResponse): void {
    const table = this.tables.get(response.id);
    if (table) {
      this.tables.delete(response.id);
      if ('table' in response) table.resolve(response.table);
      else table.reject(new Error('error' in response ? response.error : 'the analysis worker answered something else'));
      return;
    }
    const waiting = this.waiting.get(response.id);
    if (!waiting) return;
    if ('report' in response) {
      waiting.sent.push(response.report);
      // The next report after this turn of the event loop: what else waits runs between them.
      setImmediate(() => this.worker?.postMessage({ type: 'next', id: response.id } satisfies WorkerRequest));
      return;
    }
    if ('first' in response) {
      // Not the answer yet: the models on screen, which the answer then reuses.
      const reports = this.inOrder(response.id, waiting, response.first);
      if (reports) waiting.first?.(reports);
      return;
    }
    this.waiting.delete(response.id);
    if ('error' in response) {
      // The worker dropped the key's tree: the next request sends the whole text.
      this.held.delete(waiting.key);
      this.answered.delete(waiting.key);
      return waiting.reject(new Error(`the analysis failed: ${response.error}`));
    }
    if (!('reports' in response)) return waiting.reject(new Error('the analysis worker answered something else'));
    const reports = this.inOrder(response.id, waiting, response.reports);
    if (reports) waiting.resolve({ reports, reads: response.reads, checkpoints: response.checkpoints });
  }

  /** The reports an answer names, from those just sent and the key's last answer, which they then become; undefined (and refused) where it names one it did not send. */
  private inOrder(id: number, waiting: Waiting, answered: readonly AnsweredReport[]): ModelReport[] | undefined {
    const previous = this.answered.get(waiting.key) ?? [];
    const sent = waiting.sent.splice(0).values();
    const reports: ModelReport[] = [];
    for (const report of answered) {
      const known = report === 'sent' ? sent.next().value : previous[report.reused];
      if (!known) {
        this.waiting.delete(id);
        this.forget(waiting.key);
        waiting.reject(new Error('the analysis worker named a report it had not sent'));
        return undefined;
      }
      reports.push(known);
    }
    this.answered.set(waiting.key, reports);
    return reports;
  }

  private failed(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const unanswered = this.waiting.size > 0;
    this.stopped(error);
    if (unanswered && !this.disposed) this.onFailure(error);
  }

  /** The worker is gone: what it held is gone with it, and what it was asked is refused. */
  private stopped(error: Error): void {
    this.held.clear();
    this.answered.clear();
    this.editorsSent.clear();
    for (const { reject } of [...this.waiting.values(), ...this.tables.values()]) reject(error);
    this.waiting.clear();
    this.tables.clear();
  }
}
