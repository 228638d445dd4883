import { basename } from 'node:path';
import * as vscode from 'vscode';
import { imageDataUrl } from '../core/datasets/imageFolder';
import { layerCode } from '../core/filters/layerCode';
import { type PlaygroundImage, type PlaygroundToHost, playgroundToHost, type PlaygroundToWebview } from '../core/protocol/playground';
import { datasetIds, isDatasetId } from '../core/protocol/trainer';
import { Disposable } from './disposable';
import type { Log } from './log';
import { pickImage } from './pickImage';
import { WebviewChannel } from './webviewChannel';
import { renderWebviewHtml, stateField, webviewOptions } from './webviewHtml';
import { readWorkspaceDataset } from './workspaceDatasets';

/** Photos larger than this are refused: the page decodes them, and a 20 MB JPEG is already 100 megapixels. */
const maxImageBytes = 20_000_000;

/** The filter playground: the course's hand-made filters, edges, ReLU and pooling on any image, live. One panel, reused. */
export class PlaygroundPanel extends Disposable {
  static readonly viewType = 'cnnLab.playground';
  private current: { panel: vscode.WebviewPanel; load(path: string): void } | undefined;
  private readonly presetApplied = this._register(new vscode.EventEmitter<string>());
  /** Fires with a preset's name when the user picks it. */
  readonly onDidApplyPreset = this.presetApplied.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(PlaygroundPanel.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const imagePath = stateField(state, 'imagePath');
          const playground = this.attach(panel);
          if (typeof imagePath === 'string') playground.load(imagePath);
        },
      }),
    );
    this._register({ dispose: () => this.current?.panel.dispose() });
  }

  /** Opens the playground, on an image file when given one (the explorer's "Open in Filter Playground"). */
  show(image?: vscode.Uri): void {
    if (!this.current) this.attach(vscode.window.createWebviewPanel(PlaygroundPanel.viewType, 'Filter Playground', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
    this.current?.panel.reveal();
    if (image) this.current?.load(image.fsPath);
  }

  private attach(panel: vscode.WebviewPanel): { panel: vscode.WebviewPanel; load(path: string): void } {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'playground', 'Filter Playground');
    let image: PlaygroundImage | undefined;
    let loads = 0;
    const channel: WebviewChannel<PlaygroundToHost, PlaygroundToWebview> = new WebviewChannel(
      panel.webview,
      'playground',
      playgroundToHost,
      async (message) => {
        switch (message.type) {
          case 'ready':
            // A page shown again after being hidden starts afresh: it gets its image again.
            return void (loads++ > 0 && image && channel.post(image));
          case 'presetApplied':
            return this.presetApplied.fire(message.name);
          case 'openImage': {
            const picked = message.from === 'workspace' ? await this.pickFile() : await this.pickDatasetSample();
            if (picked) channel.post((image = picked));
            return;
          }
          case 'writeCode': {
            let content: string;
            try {
              content = layerCode(message.layer, message.image);
            } catch (error) {
              return void vscode.window.showErrorMessage(`CNN Lab: ${(error as Error).message}`);
            }
            const document = await vscode.workspace.openTextDocument({ language: 'python', content });
            await vscode.window.showTextDocument(document, vscode.ViewColumn.Beside);
            return;
          }
        }
      },
      this.log,
    );
    const current = {
      panel,
      load: (path: string) => {
        try {
          channel.post((image = fileImage(path)));
        } catch (error) {
          channel.post({ type: 'problem', message: `Could not open the image: ${(error as Error).message}` });
        }
      },
    };
    panel.onDidDispose(() => {
      channel.dispose();
      if (this.current === current) this.current = undefined;
    });
    this.current = current;
    return current;
  }

  /** An image of the workspace (the course's photos, say), or any file through the open dialog. */
  private async pickFile(): Promise<PlaygroundImage | undefined> {
    const path = await pickImage('Filter which image?', 'Filter');
    if (!path) return undefined;
    try {
      return fileImage(path);
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab could not open the image: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** A random training image of a dataset CNN Lab has on disk. */
  private async pickDatasetSample(): Promise<PlaygroundImage | undefined> {
    const dataset = await vscode.window.showQuickPick(datasetIds, { title: 'A sample from which dataset?' });
    if (!dataset || !isDatasetId(dataset)) return undefined;
    try {
      const { images } = await readWorkspaceDataset(dataset);
      const { train, classes } = images;
      const index = Math.floor(Math.random() * train.count);
      const size = train.shape[0] * train.shape[1] * train.shape[2];
      const pixels = Buffer.from(train.pixels.subarray(index * size, (index + 1) * size)).toString('base64');
      const label = classes[train.labels[index] ?? 0] ?? '';
      return { type: 'image', name: `${dataset} #${index} (${label})`, path: null, url: null, pixels, shape: [...train.shape] };
    } catch (error) {
      void vscode.window.showErrorMessage(`CNN Lab: ${(error as Error).message}`);
      return undefined;
    }
  }
}

function fileImage(path: string): PlaygroundImage {
  return { type: 'image', name: basename(path), path, url: imageDataUrl(path, maxImageBytes), pixels: null, shape: [] };
}
