import * as vscode from 'vscode';
import { type WelcomeToHost, welcomeToHost, type WelcomeToWebview } from '../core/protocol/welcome';
import { Disposable } from './disposable';
import type { Log } from './log';
import type { PythonEnvironmentService } from './pythonEnvironmentService';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, webviewOptions } from './webviewHtml';

/** The welcome page: what CNN Lab is, and whether this machine can train with PyTorch. One at a time. */
export class WelcomePanel extends Disposable {
  static readonly viewType = 'cnnLab.welcome';
  private current: { panel: vscode.WebviewPanel; lifetime: vscode.Disposable } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly version: string,
    private readonly environment: PythonEnvironmentService,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(WelcomePanel.viewType, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
    );
    this._register({ dispose: () => this.current?.panel.dispose() });
  }

  show(): void {
    if (this.current) {
      this.current.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(WelcomePanel.viewType, 'CNN Lab', vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'welcome', 'CNN Lab');
    let generation = 0;
    const channel: WebviewChannel<WelcomeToHost, WelcomeToWebview> = new WebviewChannel(
      panel.webview,
      'welcome',
      welcomeToHost,
      (message) => this.handle(message, sendState),
      this.log,
    );
    // Only the newest state reaches the page, however the probes interleave.
    const sendState = async () => {
      const mine = ++generation;
      const base = { type: 'state', version: this.version, trusted: vscode.workspace.isTrusted, pythonSetting: this.environment.pythonSetting } as const;
      channel.post({ ...base, environment: { type: 'checking' } });
      const environment = await this.environment.view();
      if (mine === generation) channel.post({ ...base, environment });
    };
    const lifetime = vscode.Disposable.from(
      channel,
      this.environment.onDidChange(() => void sendState()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void sendState()),
    );
    panel.onDidDispose(() => {
      lifetime.dispose();
      this.current = undefined;
    });
    this.current = { panel, lifetime };
  }

  private async handle(message: WelcomeToHost, sendState: () => Promise<void>): Promise<void> {
    switch (message.type) {
      case 'ready':
        return sendState();
      case 'recheckEnvironment':
        return this.environment.refresh();
      case 'showLog':
        return this.log.show();
      case 'openPythonSetting':
        return this.environment.choosePython();
      case 'manageTrust':
        await vscode.commands.executeCommand('workbench.trust.manage');
        return;
    }
  }
}
