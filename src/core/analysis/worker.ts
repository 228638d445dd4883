// The analysis off the extension host's thread (a bundle of its own, dist/analysisWorker.js): a
// 1,202-layer ResNet takes a tenth of a second to analyse again, a pytorchcv file two seconds cold,
// and the host's thread is every extension's. Requests are answered in the order they came, so a
// document's incremental edits reach its tree in order.
import { parentPort, workerData } from 'node:worker_threads';
import { readCheckpoint } from '../checkpoints/checkpoint';
import { checkLoads, checkpointBase } from '../checkpoints/loadCheck';
import { stateDictTable } from '../checkpoints/stateDictCheck';
import { AnalysisCache, analyzeTree } from './analyze';
import { diskReader, FileImports, type SourceReader } from './imports';
import { NotebookAnalysis } from './notebook';
import type { ModelReport } from './report';
import { findStateDictLoads, type StateDictLoad } from './python/stateDictLoads';
import { DocumentTree, type LanguageId, loadParser, Node } from './syntax';
import type { AnalysisSettings, AnsweredReport, EditorText, WorkerRequest, WorkerResponse } from './workerProtocol';

interface Kept {
  /** A file's tree and cache, or a notebook's analysis. */
  tree?: DocumentTree;
  cache?: AnalysisCache;
  notebook?: NotebookAnalysis;
  imports: FileImports | undefined;
  /** The reports of the last answer, which the next may name by index. */
  sent: ModelReport[];
}

const parsersDir = (workerData as { parsersDir: string }).parsersDir;
const kept = new Map<string, Kept>();
const editors = new Map<string, { text: string; version: string }>();
let modelPackages: AnalysisSettings['modelPackages'] = {};

/** Imported files as the editor has them, unsaved changes included, else as saved. */
const editorReader: SourceReader = {
  read: (path) => editors.get(path) ?? diskReader.read(path),
  version: (path) => editors.get(path)?.version ?? diskReader.version(path),
};

function updateEditors(changed: readonly EditorText[]): void {
  for (const { path, version, text } of changed) {
    if (text === undefined) editors.delete(path);
    else editors.set(path, { text, version: `editor:${version}` });
  }
}

function forget(key: string): void {
  const entry = kept.get(key);
  entry?.tree?.dispose();
  entry?.notebook?.dispose();
  entry?.imports?.dispose();
  kept.delete(key);
}

async function answer(request: Extract<WorkerRequest, { type: 'file' | 'notebook' }>): Promise<WorkerResponse> {
  updateEditors(request.editors);
  modelPackages = request.settings.modelPackages;
  const language: LanguageId = request.type === 'file' ? request.language : 'python';
  const parser = await loadParser(parsersDir, language);
  let entry = kept.get(request.key);
  if (!entry) {
    const imports = request.path ? new FileImports(parser, request.path, editorReader, undefined, () => modelPackages) : undefined;
    entry = request.type === 'file' ? { tree: new DocumentTree(parser), cache: new AnalysisCache(), imports, sent: [] } : { notebook: new NotebookAnalysis(parser), imports, sent: [] };
    kept.set(request.key, entry);
  }
  const options = { defaultInput: request.settings.defaultInput, ...(entry.imports ? { imports: entry.imports } : {}) };
  let reports: ModelReport[];
  let loads: StateDictLoad[] = [];
  if (request.type === 'file' && entry.tree) {
    // The file itself is an editor text too: another open file may import it.
    if (request.path) editors.set(request.path, { text: request.text, version: `editor:${request.version}` });
    const tree = entry.tree.update(request.text, request.changes);
    // A file opened cold: the models on screen first, then the rest, which finds those in the cache.
    if (request.visible && language === 'python') {
      await sendReports(request.id, entry, analyzeTree(tree, { ...options, within: request.visible }, entry.cache, language), (first) => send({ id: request.id, first }));
    }
    reports = analyzeTree(tree, options, entry.cache, language);
    if (language === 'python') loads = findStateDictLoads(Node.root(tree));
  } else if (request.type === 'notebook' && entry.notebook) {
    reports = entry.notebook.update(request.cells, options);
    loads = entry.notebook.stateDictLoads();
  } else {
    // A key reused for the other kind: start it afresh.
    forget(request.key);
    return answer(request);
  }
  // Checked on every answer, against the checkpoint as it is on disk now (read again only when it changed).
  const checkpoints = checkLoads(loads, reports, checkpointBase(request.path));
  return sendReports(request.id, entry, reports, (answered) => ({ id: request.id, reports: answered, reads: entry.imports?.readPaths() ?? [], checkpoints }));
}

/** Sends the reports the host does not have from the key's last answer, one a pull, then what puts them in order. */
async function sendReports<T>(id: number, entry: { sent: ModelReport[] }, reports: ModelReport[], answer: (answered: AnsweredReport[]) => T): Promise<T> {
  const previous = new Map(entry.sent.map((report, index) => [report, index]));
  entry.sent = reports;
  const fresh: ModelReport[] = [];
  const answered = reports.map((report): AnsweredReport => {
    const index = previous.get(report);
    if (index !== undefined) return { reused: index };
    fresh.push(report);
    return 'sent';
  });
  for (const report of fresh) {
    // The host shows no state_dict (a 1,202-layer ResNet's is 12,000 entries): it stays here.
    const shown = { ...report };
    delete shown.stateDict;
    send({ id, report: shown });
    await pulled(id);
  }
  return answer(answered);
}

/** Answers whose host has not yet asked for their next report. */
const pulls = new Map<number, () => void>();

function pulled(id: number): Promise<void> {
  return new Promise((resolve) => pulls.set(id, resolve));
}

function send(response: WorkerResponse): void {
  parentPort?.postMessage(response);
}

let queue = Promise.resolve();
parentPort?.on('message', (request: WorkerRequest) => {
  // Not queued: the answer being delivered is what the queue waits on.
  if (request.type === 'next') {
    pulls.get(request.id)?.();
    pulls.delete(request.id);
    return;
  }
  queue = queue.then(async () => {
    switch (request.type) {
      case 'prepare':
        await loadParser(parsersDir, request.language).catch(() => undefined);
        return;
      case 'forget':
        return forget(request.key);
      case 'forgetAll':
        for (const key of [...kept.keys()]) forget(key);
        return;
      case 'stateDict': {
        // The report as the worker keeps it, its state_dict with it (the host's copy has none).
        const model = kept.get(request.key)?.sent.find((report) => report.name === request.model);
        try {
          if (!model) throw new Error(`${request.model} is not a model of the file as last analysed`);
          send({ id: request.id, table: stateDictTable(model, readCheckpoint(request.checkpoint)) });
        } catch (error) {
          send({ id: request.id, error: error instanceof Error ? error.message : String(error) });
        }
        return;
      }
      default: {
        let response: WorkerResponse;
        try {
          response = await answer(request);
        } catch (error) {
          // The document's state may be half-updated: the next request starts it afresh.
          forget(request.key);
          response = { id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
        }
        send(response);
      }
    }
  });
});
