import * as vscode from 'vscode';
import { compareRuns, RunModel } from '../core/dashboard/runModel';
import { type CompareToHost, compareToHost, type CompareToWebview, maxComparedRuns } from '../core/protocol/compare';
import { Disposable } from './disposable';
import type { Log } from './log';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, stateField, webviewOptions } from './webviewHtml';

/** Runs side by side: their curves overlaid and their settings, what differs marked. One panel, reused. */
export class ComparePanel extends Disposable {
  static readonly viewType = 'cnnLab.compare';
  private current: { panel: vscode.WebviewPanel; show(runDirs: string[]): void } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const runDirs = stateField(state, 'runDirs');
          if (Array.isArray(runDirs) && runDirs.every((d) => typeof d === 'string')) this.attach(panel).show(runDirs as string[]);
          else panel.dispose();
        },
      }),
    );
    this._register({ dispose: () => this.current?.panel.dispose() });
  }

  show(runDirs: string[]): void {
    if (!this.current) this.attach(vscode.window.createWebviewPanel(ComparePanel.viewType, 'Compare Runs', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
    this.current?.panel.reveal();
    this.current?.show(runDirs.slice(0, maxComparedRuns));
  }

  private attach(panel: vscode.WebviewPanel): { panel: vscode.WebviewPanel; show(runDirs: string[]): void } {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'compare', 'Compare Runs');
    let runDirs: string[] = [];
    const channel: WebviewChannel<CompareToHost, CompareToWebview> = new WebviewChannel(panel.webview, 'compare', compareToHost, () => post(), this.log);
    // Read afresh each time: a run that was still training has moved on.
    const post = () => {
      const models = runDirs.flatMap((runDir) => {
        try {
          return [RunModel.fromFolder(runDir)];
        } catch (error) {
          this.log.warn(`comparing runs: ${runDir} is left out: ${(error as Error).message}`);
          return [];
        }
      });
      channel.post(compareRuns(models));
    };
    const current = {
      panel,
      show: (dirs: string[]) => {
        runDirs = dirs;
        post();
      },
    };
    panel.onDidDispose(() => {
      channel.dispose();
      if (this.current === current) this.current = undefined;
    });
    this.current = current;
    return current;
  }
}
