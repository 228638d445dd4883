import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { readCheckpoint, runCheckpointFiles } from '../core/checkpoints/checkpoint';
import { RunModel } from '../core/dashboard/runModel';
import { type DashboardToHost, dashboardToHost, type DashboardToWebview } from '../core/protocol/dashboard';
import type { TrainerEvent } from '../core/protocol/trainer';
import type { RunResult } from '../core/training/trainingRun';
import { Disposable } from './disposable';
import type { Log } from './log';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, stateField, webviewOptions } from './webviewHtml';

/** What the dashboard of a live run is told as the run goes. */
export interface RunWatcher {
  ingest(event: TrainerEvent): void;
  end(result: RunResult): void;
}

interface Dashboard {
  panel: vscode.WebviewPanel;
  model: RunModel;
  live: boolean;
  smoothing: number;
  update(): void;
}

/** Updates a live dashboard at most this often: the chart stays smooth, the host stays idle. */
const updateIntervalMs = 100;

/** The best checkpoint's first conv layer in the inspector, or why there is none to show. */
async function inspectBestCheckpoint(runDir: string): Promise<void> {
  const path = runCheckpointFiles.slice(0, 2).map((name) => join(runDir, name)).find((p) => existsSync(p));
  if (!path) return void vscode.window.showInformationMessage('CNN Lab: this run has no best checkpoint yet: one is saved after its first epoch.');
  try {
    const conv = readCheckpoint(path).layers.find((layer) => layer.kind === 'Conv2d');
    if (!conv) return void vscode.window.showInformationMessage(`CNN Lab: ${basename(path)} has no conv layer to inspect; the Checkpoints view shows its weights.`);
    await vscode.commands.executeCommand('cnnLab.inspectLayer', path, conv.name);
  } catch (error) {
    void vscode.window.showErrorMessage(`CNN Lab: ${(error as Error).message}`);
  }
}

/** Training dashboards: one panel per run, live while it trains, restored after a window reload. */
export class Dashboards extends Disposable {
  static readonly viewType = 'cnnLab.dashboard';
  private readonly open = new Map<string, Dashboard>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(Dashboards.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const runDir = stateField(state, 'runDir');
          if (typeof runDir !== 'string') return panel.dispose();
          const model = this.readRun(runDir);
          if (model) this.attach(panel, model, false);
          else panel.dispose();
        },
      }),
    );
    this._register({ dispose: () => [...this.open.values()].forEach((d) => d.panel.dispose()) });
  }

  /** The dashboard of a run folder, opened or brought forward. */
  show(runDir: string): void {
    const existing = this.open.get(runDir);
    if (existing) return existing.panel.reveal();
    const model = this.readRun(runDir);
    if (model) this.attach(this.createPanel(model), model, false);
  }

  /** A run that has just started: its dashboard follows its events (and opens, unless the setting says not to). */
  follow(runDir: string): RunWatcher {
    const model = this.readRun(runDir) ?? undefined;
    if (!model) return { ingest: () => undefined, end: () => undefined };
    const existing = this.open.get(runDir);
    let dashboard = existing ? Object.assign(existing, { model, live: true }) : undefined;
    if (!dashboard && vscode.workspace.getConfiguration('cnnLab').get<boolean>('dashboard.openOnTrain', true)) {
      dashboard = this.attach(this.createPanel(model, vscode.ViewColumn.Beside), model, true);
    }
    dashboard?.update();
    return {
      ingest: (event) => {
        model.ingest(event);
        this.open.get(runDir)?.update();
      },
      end: (result) => {
        model.end(result.status, result.error?.message);
        const current = this.open.get(runDir);
        if (current) {
          current.live = false;
          current.update();
        }
      },
    };
  }

  private readRun(runDir: string): RunModel | undefined {
    try {
      return RunModel.fromFolder(runDir);
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab cannot show ${runDir}: ${(error as Error).message}`);
      return undefined;
    }
  }

  private createPanel(model: RunModel, column = vscode.ViewColumn.Active): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(Dashboards.viewType, `${model.config.className} · ${model.config.dataset}`, { viewColumn: column, preserveFocus: true }, { ...webviewOptions(this.extensionUri), retainContextWhenHidden: false });
  }

  private attach(panel: vscode.WebviewPanel, model: RunModel, live: boolean): Dashboard {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'dashboard', panel.title);
    let timer: NodeJS.Timeout | undefined;
    let last = 0;
    const channel: WebviewChannel<DashboardToHost, DashboardToWebview> = new WebviewChannel(panel.webview, 'dashboard', dashboardToHost, (message) => this.handle(dashboard, message), this.log);
    const post = () => {
      timer = undefined;
      last = Date.now();
      channel.post(dashboard.model.view(dashboard.smoothing, { canStop: dashboard.live, canResume: !dashboard.live && (dashboard.model.status === 'cancelled' || dashboard.model.status === 'failed') }));
    };
    const dashboard: Dashboard = {
      panel,
      model,
      live,
      smoothing: 0.6,
      // At most every updateIntervalMs, and never a view left unsent.
      update: () => {
        if (timer) return;
        timer = setTimeout(post, Math.max(0, updateIntervalMs - (Date.now() - last)));
      },
    };
    // A hidden panel's page is gone; shown again, it asks for the view with `ready`.
    panel.onDidDispose(() => {
      clearTimeout(timer);
      channel.dispose();
      if (this.open.get(model.runDir) === dashboard) this.open.delete(model.runDir);
    });
    this.open.set(model.runDir, dashboard);
    return dashboard;
  }

  private async handle(dashboard: Dashboard, message: DashboardToHost): Promise<void> {
    const runDir = dashboard.model.runDir;
    switch (message.type) {
      case 'ready':
        return dashboard.update();
      case 'setSmoothing':
        dashboard.smoothing = message.weight;
        return dashboard.update();
      case 'stop':
        if (dashboard.live) await vscode.commands.executeCommand('cnnLab.stopTraining');
        return;
      case 'resume':
        await vscode.commands.executeCommand('cnnLab.resumeTraining', runDir);
        return;
      case 'revealFolder':
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(runDir));
        return;
      case 'inspectFilters':
        return inspectBestCheckpoint(runDir);
    }
  }
}
