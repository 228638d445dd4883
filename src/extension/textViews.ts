import * as vscode from 'vscode';
import { Disposable } from './disposable';

/**
 * Read-only text shown beside the editor under a URI scheme of CNN Lab's own: a model's summary, two
 * models or two checkpoints compared. Each document keeps its text until it is shown again.
 */
export class TextViews extends Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());

  constructor(private readonly scheme: string) {
    super();
    this._register(vscode.workspace.registerTextDocumentContentProvider(scheme, { onDidChange: this.changed.event, provideTextDocumentContent: (uri) => this.texts.get(uri.toString()) ?? '' }));
  }

  /** `text` as the document named `path` (`query` tells apart documents of one name), in plain text whatever the name ends in. */
  async show(path: string, query: string, text: string): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: this.scheme, path, query });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    const document = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), 'plaintext');
    // Shown again where it is already, rather than in one more column; beside what is open (an editor, a panel), else in the empty group.
    const shown = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === uri.toString());
    const column = shown?.viewColumn ?? (vscode.window.tabGroups.activeTabGroup.tabs.length > 0 ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
    return vscode.window.showTextDocument(document, { preview: true, viewColumn: column });
  }
}
