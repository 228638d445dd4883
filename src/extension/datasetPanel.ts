import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { DatasetPages } from '../core/datasets/browse';
import { type DatasetToHost, datasetToHost, type DatasetToWebview } from '../core/protocol/datasetBrowser';
import { datasetIds, isDatasetId } from '../core/protocol/trainer';
import { listImageFolder } from '../core/datasets/imageFolder';
import { readSettings, settingsFileName } from '../core/training/settings';
import type { Augmentation } from '../core/training/augmentation';
import { Disposable } from './disposable';
import type { Log } from './log';
import { WebviewChannel } from './webviewChannel';
import { readWorkspaceDataset } from './workspaceDatasets';
import { renderWebviewHtml, stateField, webviewOptions } from './webviewHtml';

/** What the preview draws when the workspace's cnn-lab.json asks for no augmentation: the course's CIFAR-10 transforms. */
const courseAugmentation: Augmentation = { flip: true, rotation: 10 };

/** The dataset browser: a grid of a dataset's images by class, their statistics, and the augmentation preview. */
export class DatasetBrowser extends Disposable {
  static readonly viewType = 'cnnLab.dataset';
  /** By dataset name, or by an image folder's path. */
  private readonly open = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    this._register(
      vscode.window.registerWebviewPanelSerializer(DatasetBrowser.viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const dataset = stateField(state, 'dataset');
          if (typeof dataset === 'string') await this.attach(panel, dataset);
          else panel.dispose();
        },
      }),
    );
    this._register({ dispose: () => [...this.open.values()].forEach((panel) => panel.dispose()) });
  }

  /** Opens the browser on a dataset, named or an image folder's path (default: one the user picks). */
  async show(dataset?: string): Promise<void> {
    const chosen = dataset ?? (await this.pick());
    if (!chosen) return;
    const existing = this.open.get(chosen);
    if (existing) return existing.reveal();
    const panel = vscode.window.createWebviewPanel(DatasetBrowser.viewType, `Dataset · ${isDatasetId(chosen) ? chosen : basename(chosen)}`, vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
    await this.attach(panel, chosen);
  }

  private async pick(): Promise<string | undefined> {
    const items = [...datasetIds.map((id) => ({ label: id, id })), { label: '$(folder) Image Folder…', id: '' }];
    const item = await vscode.window.showQuickPick(items, { title: 'Browse which dataset?' });
    if (!item || item.id) return item?.id;
    const [folder] = (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Browse', title: 'A folder with one sub-folder of images per class' })) ?? [];
    return folder?.fsPath;
  }

  private async attach(panel: vscode.WebviewPanel, dataset: string): Promise<void> {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'cnn-lab.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = renderWebviewHtml(panel.webview, this.extensionUri, 'dataset', panel.title);
    this.open.set(dataset, panel);
    let draws = 0;
    const loading = this.load(dataset);
    loading.catch(() => undefined); // reported to the page when it asks
    const augmentation = this.augmentation();
    const channel: WebviewChannel<DatasetToHost, DatasetToWebview> = new WebviewChannel(
      panel.webview,
      'dataset',
      datasetToHost,
      async (message) => {
        let pages: DatasetPages;
        try {
          pages = await loading;
        } catch (error) {
          return channel.post({ type: 'problem', message: (error as Error).message });
        }
        switch (message.type) {
          case 'ready':
            channel.post(pages.summary('train', augmentation));
            return channel.post(pages.page('train', 0, null));
          case 'page':
            channel.post(pages.summary(message.split, augmentation));
            return channel.post(pages.page(message.split, message.offset, message.classFilter));
          case 'augment': {
            const augmented = pages.augmented(message.split, message.index, augmentation, message.index * 7919 + ++draws);
            return augmented && channel.post(augmented);
          }
        }
      },
      this.log,
    );
    panel.onDidDispose(() => {
      channel.dispose();
      if (this.open.get(dataset) === panel) this.open.delete(dataset);
    });
  }

  private async load(dataset: string): Promise<DatasetPages> {
    if (!isDatasetId(dataset)) return new DatasetPages(basename(dataset), dataset, { kind: 'files', listing: listImageFolder(dataset) });
    const { folder, images } = await readWorkspaceDataset(dataset);
    return new DatasetPages(dataset, folder, { kind: 'arrays', dataset: images });
  }

  private augmentation(): Augmentation {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    try {
      return (folder && readSettings(join(folder.fsPath, settingsFileName)).augment) || courseAugmentation;
    } catch {
      return courseAugmentation; // a broken cnn-lab.json is reported when training
    }
  }
}
