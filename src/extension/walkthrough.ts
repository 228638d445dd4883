import * as vscode from 'vscode';
import type { RunResult } from '../core/training/trainingRun';
import { Disposable } from './disposable';
import type { ModelHints } from './hints/modelHints';
import type { Log } from './log';

/** The walkthrough's steps, each done by the real event, never by a click on the step. */
export const walkthroughSteps = ['hints', 'fixed', 'trained', 'dashboard', 'inspected', 'playground'] as const;
export type WalkthroughStep = (typeof walkthroughSteps)[number];

export interface WalkthroughEvents {
  hints: ModelHints;
  runFinished: vscode.Event<RunResult>;
  activationsShown: vscode.Event<void>;
  presetApplied: vscode.Event<string>;
}

/**
 * "Get started with CNN Lab": sets the context key each step's completionEvents wait for
 * (cnnLab.walkthrough.<step>) when the user has done the thing, remembered across sessions. VS Code
 * ticks a step when its key turns true while its walkthrough page is loaded, as it is from the
 * page's first opening (on install) on; a step it has ticked stays ticked.
 */
export class Walkthrough extends Disposable {
  /** Per document, its CNN Lab errors when its diagnostics last changed, and at which version. */
  private readonly errors = new Map<string, { version: number; errors: number }>();

  constructor(
    private readonly memento: vscode.Memento,
    events: WalkthroughEvents,
    private readonly log: Log,
  ) {
    super();
    for (const step of walkthroughSteps) if (this.isDone(step)) void vscode.commands.executeCommand('setContext', key(step), true);
    const subscriptions = [
      // Both follow typing: once their step is done they stop at once.
      events.hints.onDidChangeReports((uri) => {
        if (this.isDone('hints')) return;
        const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        if (document && vscode.window.visibleTextEditors.some((e) => e.document === document)) void events.hints.reports(document).then((models) => models.length && this.done('hints'));
      }),
      // Fixed: a model file's CNN Lab errors gone after an edit (not because it closed).
      vscode.languages.onDidChangeDiagnostics(({ uris }) => {
        if (this.isDone('fixed')) return;
        for (const uri of uris) {
          const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
          if (!document) continue;
          const errors = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'CNN Lab' && d.severity === vscode.DiagnosticSeverity.Error).length;
          const before = this.errors.get(uri.toString());
          if (errors === 0 && before && before.errors > 0 && document.version > before.version) this.done('fixed');
          this.errors.set(uri.toString(), { version: document.version, errors });
        }
      }),
      events.runFinished((result) => result.status === 'completed' && this.done('trained')),
      vscode.window.tabGroups.onDidChangeTabs((change) => {
        if (change.opened.some((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('cnnLab.dashboard'))) this.done('dashboard');
      }),
      events.activationsShown(() => this.done('inspected')),
      events.presetApplied((name) => name.startsWith('Sobel') && this.done('playground')),
    ];
    subscriptions.forEach((subscription) => this._register(subscription));
  }

  private isDone(step: WalkthroughStep): boolean {
    return this.memento.get<boolean>(key(step)) === true;
  }

  done(step: WalkthroughStep): void {
    if (this.isDone(step)) return;
    void this.memento.update(key(step), true);
    this.log.info(`walkthrough: "${step}" done`);
    void vscode.commands.executeCommand('setContext', key(step), true);
  }
}

const key = (step: WalkthroughStep) => `cnnLab.walkthrough.${step}`;
