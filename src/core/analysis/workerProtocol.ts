// The messages between the extension host and the analysis worker (worker.ts): one declaration each.
// Both ends are this extension's own code, so the types are the contract; nothing here comes from a user.
import type { CheckpointFinding } from '../checkpoints/loadCheck';
import type { StateDictTable } from '../checkpoints/stateDictCheck';
import type { NotebookCell, NotebookModelReport } from './notebook';
import type { LineRange } from './pytorch';
import type { ModelReport } from './report';
import type { LanguageId, TextChange } from './syntax';

/** What every analysis needs beside the text. */
export interface AnalysisSettings {
  /** One sample's shape when a model does not say (cnnLab.defaultInputShape). */
  defaultInput: number[];
  /** Where the selected interpreter's torchvision and timm are installed: their model factories are read, never run. */
  modelPackages: Readonly<Record<string, string | null | undefined>>;
}

/**
 * A file open in the editor, as imports read it: its unsaved text, or `text` absent once it is
 * closed (the disk's copy counts again). Sent only when it changed since the worker last had it.
 */
export interface EditorText {
  path: string;
  version: number;
  text?: string;
}

interface Analyse {
  id: number;
  /** The document's or notebook's URI: what the worker keeps its tree and caches under. */
  key: string;
  /** The file on disk it is, for `from … import …` (absent for an untitled document). */
  path?: string;
  settings: AnalysisSettings;
  editors: EditorText[];
}

export type WorkerRequest =
  | (Analyse & {
      type: 'file';
      language: LanguageId;
      /** The editor's version of the text. */
      version: number;
      text: string;
      /** The edits since the worker's last request for this key, applied incrementally; absent: parse afresh. */
      changes?: TextChange[];
      /** The lines on screen, for a file opened cold: its models there are answered first (`first`), then all. */
      visible?: LineRange[];
    })
  | (Analyse & { type: 'notebook'; cells: NotebookCell[] })
  /** The host has read the last report of answer `id` and can take the next. */
  | { type: 'next'; id: number }
  /** Load a language's grammar before the first file needs it. */
  | { type: 'prepare'; language: LanguageId }
  | { type: 'forget'; key: string }
  /** A model of the key's last answer against a checkpoint file, key by key (Check Against Model…). */
  | { type: 'stateDict'; id: number; key: string; model: string; checkpoint: string }
  /** Every tree and cache dropped: the installed packages were found, imports may resolve otherwise. */
  | { type: 'forgetAll' };

/**
 * A report of the answer: one sent before it for this request (`sent`: the next of them, in order),
 * or one of the worker's last answer for the same key, unchanged (`reused`: its index there). The
 * cache hands back the same reports after most edits; they cross the thread boundary once.
 */
export type AnsweredReport = 'sent' | { reused: number };

/**
 * An answer comes as a message per new report, each sent when the host asks for the next, then one
 * that puts them in order: a file with 25 deep models (50,000 layers) takes 200 ms to read back,
 * and the host's thread reads one model at a time, with its other work between them (messages
 * that wait are read together, so the host pulls).
 */
export type WorkerResponse =
  | { id: number; report: ModelReport | NotebookModelReport }
  /** The models on screen (WorkerRequest's `visible`), before the answer: the answer reuses them. */
  | { id: number; first: AnsweredReport[] }
  | {
      id: number;
      reports: AnsweredReport[];
      /** The files its imports read, so that an edit of one of them analyses this again. */
      reads: string[];
      /** Its load_state_dict calls checked against the checkpoints they name. */
      checkpoints: CheckpointFinding[];
    }
  | { id: number; table: StateDictTable }
  | { id: number; error: string };
