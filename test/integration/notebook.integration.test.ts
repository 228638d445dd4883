import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ModelReport } from '../../src/core/analysis/report';
import type { RunResult } from '../../src/core/training/trainingRun';
import { lensTitles, until, workbench } from './workbench';

/** An nbformat 4 notebook of [cell_type, source] pairs, as Jupyter saves one. */
function notebook(cells: [string, string][]): string {
  return JSON.stringify({
    cells: cells.map(([type, source]) => ({ cell_type: type, metadata: {}, source: source.split(/(?<=\n)/), ...(type === 'code' ? { execution_count: null, outputs: [] } : {}) })),
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** The course's CIFAR-10 lesson: imports, hyper-parameters, the model in one cell, `model = Net()` in the next, the training loop last. */
const cifarLesson = notebook([
  ['markdown', '# Convolutional Neural Networks\n\nClassify images from the CIFAR-10 database.'],
  ['code', '%matplotlib inline\nimport torch\nimport numpy as np\nimport matplotlib.pyplot as plt\nimport torch.nn as nn\nimport torch.nn.functional as F'],
  ['code', 'batch_size = 20\nhidden = 500'],
  ['markdown', '## Define the network architecture'],
  [
    'code',
    [
      'class Net(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)',
      '        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)',
      '        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)',
      '        self.pool = nn.MaxPool2d(2, 2)',
      '        self.fc1 = nn.Linear(64 * 4 * 4, hidden)',
      '        self.fc2 = nn.Linear(hidden, 10)',
      '        self.dropout = nn.Dropout(0.25)',
      '',
      '    def forward(self, x):',
      '        x = self.pool(F.relu(self.conv1(x)))',
      '        x = self.pool(F.relu(self.conv2(x)))',
      '        x = self.pool(F.relu(self.conv3(x)))',
      '        x = x.view(-1, 64 * 4 * 4)',
      '        x = self.dropout(F.relu(self.fc1(x)))',
      '        return self.fc2(self.dropout(x))',
    ].join('\n'),
  ],
  ['code', 'model = Net()\nprint(model)'],
  ['code', 'criterion = nn.CrossEntropyLoss()\noptimizer = torch.optim.SGD(model.parameters(), lr=0.01)\nfor epoch in range(30):\n    for data, target in train_loader:\n        optimizer.zero_grad()'],
]);

/** The MLP lesson, trained from its notebook: its last cell would fail (no train_loader) if it ran. */
const mlpLesson = notebook([
  ['code', '!pip install torch torchvision\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport matplotlib.pyplot as plt'],
  ['code', 'class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(28 * 28, 512)\n        self.fc2 = nn.Linear(512, 10)\n\n    def forward(self, x):\n        x = x.view(-1, 28 * 28)\n        return self.fc2(F.relu(self.fc1(x)))'],
  ['code', 'model = Net()\nfor data, target in train_loader:\n    plt.imshow(data[0])'],
]);

describe('Shape hints, quick fixes and training in a notebook', () => {
  let folder: vscode.Uri;
  let lesson: vscode.NotebookDocument;
  const cell = (index: number) => lesson.cellAt(index).document;
  const line = (document: vscode.TextDocument, text: string) => document.getText().split('\n').findIndex((l) => l.includes(text));

  before(async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    folder = workspace.uri;
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'cifar_lesson.ipynb'), new TextEncoder().encode(cifarLesson));
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, 'mlp_lesson.ipynb'), new TextEncoder().encode(mlpLesson));
    lesson = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder, 'cifar_lesson.ipynb'));
    await vscode.window.showNotebookDocument(lesson);
  });

  after(async () => {
    await vscode.window.showNotebookDocument(lesson);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const name of ['cifar_lesson.ipynb', 'mlp_lesson.ipynb']) await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, name));
  });

  it('shows the model and layer lenses in the cell that defines the model, with the earlier cells’ imports and constants', async () => {
    const titles = await lensTitles(cell(4).uri, '541,094');
    assert.ok(titles.includes('[1, 3, 32, 32] → [1, 10] · 541,094 params · 2.16 MB · 3.32 M MACs'), titles.join('\n'));
    assert.ok(titles.includes('fc1 → [1, 500] · 512,500 params · 512 K MACs'), titles.join('\n'));
    assert.ok(titles.includes('$(play) Train…'));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', cell(4).uri);
    assert.equal(lenses.find((l) => l.command?.command === 'cnnLab.showModelSummary')?.range.start.line, 0, 'on the class line of its own cell');
    // The cells above the model's show nothing; the import cell's magic does not break the parse.
    // (A cell scrolled out of view may have no text model in the workbench, so only these are asked.)
    for (const index of [1, 2]) {
      // The workbench has a cell's text model once the cell is drawn.
      vscode.window.activeNotebookEditor?.revealRange(new vscode.NotebookRange(index, index + 1));
      const lensesOf = async () => {
        try {
          return await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', cell(index).uri);
        } catch {
          return undefined; // "Illegal argument" until the workbench has the cell's text model
        }
      };
      const found = await until(lensesOf, `cell ${index} drawn, and its lenses`);
      assert.deepEqual(found, [], `cell ${index}`);
    }
    vscode.window.activeNotebookEditor?.revealRange(new vscode.NotebookRange(4, 5));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', cell(4).uri, new vscode.Position(line(cell(4), 'self.conv1 ='), 22));
    assert.match(hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n'), /\(W − F \+ 2P\)\/S \+ 1 = \(32 − 3 \+ 2·1\)\/1 \+ 1 = 32/);
    await until(() => workbench.workbenchText('.codelens-decoration').then((t) => t.some((s) => s.includes('541,094'))), 'the lenses drawn in the cell');
    await workbench.screenshot('notebook-hints');
  });

  it('follows an edit of another cell, and cells added before the model', async () => {
    const edit = new vscode.WorkspaceEdit();
    const at = line(cell(2), 'hidden = 500');
    edit.replace(cell(2).uri, new vscode.Range(at, 0, at, 'hidden = 500'.length), 'hidden = 256');
    await vscode.workspace.applyEdit(edit);
    await lensTitles(cell(4).uri, 'fc1 → [1, 256] · 262,400 params');
    const insert = new vscode.WorkspaceEdit();
    insert.set(lesson.uri, [vscode.NotebookEdit.insertCells(3, [new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'hidden = 128', 'python')])]);
    await vscode.workspace.applyEdit(insert);
    assert.equal(cell(5).getText().split('\n')[0], 'class Net(nn.Module):');
    const titles = await lensTitles(cell(5).uri, 'fc1 → [1, 128] · 131,200 params');
    assert.ok(titles.some((t) => t.startsWith('[1, 3, 32, 32] → [1, 10] · ')), titles.join('\n'));
    const remove = new vscode.WorkspaceEdit();
    remove.set(lesson.uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(3, 4))]);
    await vscode.workspace.applyEdit(remove);
    await lensTitles(cell(4).uri, 'fc1 → [1, 256] · 262,400 params');
  });

  it('flags a wrong flatten size in the cell and fixes it with the quick fix', async () => {
    const model = cell(4);
    const wrong = 'nn.Linear(64 * 8 * 8, hidden)';
    const offset = model.getText().indexOf('nn.Linear(64 * 4 * 4, hidden)');
    const edit = new vscode.WorkspaceEdit();
    edit.replace(model.uri, new vscode.Range(model.positionAt(offset), model.positionAt(offset + wrong.length)), wrong);
    await vscode.workspace.applyEdit(edit);
    const diagnostic = await until(() => vscode.languages.getDiagnostics(model.uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic in the cell');
    assert.equal(diagnostic.message, 'fc1: Linear expects 4096 input features but receives 1024');
    assert.equal(diagnostic.range.start.line, line(model, 'self.fc1 ='));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', model.uri, diagnostic.range);
    const fix = actions.find((a) => a.title === 'Change in_features to 1024');
    assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
    await vscode.workspace.applyEdit(fix.edit);
    assert.equal(model.lineAt(line(model, 'self.fc1 =')).text.trim(), 'self.fc1 = nn.Linear(1024, hidden)');
    await until(() => !vscode.languages.getDiagnostics(model.uri).some((d) => d.source === 'CNN Lab'), 'the diagnostic to clear');
  });

  it('warns in the model’s cell when another cell loads a dataset the model does not fit, and links to that cell', async () => {
    const load = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, "from torchvision import datasets, transforms\ntrain_data = datasets.CIFAR100('data', train=True, download=True, transform=transforms.ToTensor())", 'python');
    const add = new vscode.WorkspaceEdit();
    add.set(lesson.uri, [vscode.NotebookEdit.insertCells(lesson.cellCount, [load])]);
    await vscode.workspace.applyEdit(add);
    try {
      // An earlier test widened the hidden layer.
      const hidden = /hidden = (\d+)/.exec(cell(2).getText())?.[1];
      const dataCell = cell(lesson.cellCount - 1);
      const warning = await until(() => vscode.languages.getDiagnostics(cell(4).uri).find((d) => d.source === 'CNN Lab' && d.severity === vscode.DiagnosticSeverity.Warning), 'the warning in the model’s cell');
      assert.equal(warning.message, `Net gives 10 scores per image but CIFAR-100 has 100 classes, so labels 10 to 99 have no score and the loss fails on them: make fc2 nn.Linear(${hidden}, 100)`);
      assert.equal(warning.range.start.line, line(cell(4), 'self.fc2 ='));
      assert.deepEqual(
        warning.relatedInformation?.map((r) => [r.location.uri.toString(), r.location.range.start.line, r.message]),
        [[dataCell.uri.toString(), 1, 'CIFAR-100: 3×32×32 images, 100 classes']],
      );
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', cell(4).uri, warning.range);
      assert.ok(actions.some((a) => a.title === 'Change out_features to 100'), actions.map((a) => a.title).join(', '));
      // As a user meets it: the squiggle on fc2 in the model's cell, its hover naming the dataset's cell.
      await vscode.window.showNotebookDocument(lesson, { selections: [new vscode.NotebookRange(4, 5)] });
      const editor = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === cell(4).uri.toString()), 'the model cell’s editor');
      editor.selection = new vscode.Selection(warning.range.start, warning.range.start);
      editor.revealRange(warning.range);
      await vscode.commands.executeCommand('editor.action.showHover');
      await new Promise((r) => setTimeout(r, 800));
      await workbench.screenshot('notebook-data-fit');
      await vscode.commands.executeCommand('editor.action.hideHover');
    } finally {
      const remove = new vscode.WorkspaceEdit();
      remove.set(lesson.uri, [vscode.NotebookEdit.deleteCells(new vscode.NotebookRange(lesson.cellCount - 1, lesson.cellCount))]);
      await vscode.workspace.applyEdit(remove);
    }
    await until(() => !vscode.languages.getDiagnostics(cell(4).uri).some((d) => d.source === 'CNN Lab'), 'the warning to clear with its cell');
  });

  it('replaces the static hints with PyTorch’s once the notebook is saved, running only what the model needs', async () => {
    // Cell 6 is a training loop over a train_loader no cell defines: it would fail if it ran.
    await lesson.save();
    const titles = await lensTitles(cell(4).uri, '· exact', 60_000);
    // Not run: batch_size, `model = Net()` and `print(model)` of cell 5, and the three statements of cell 6.
    assert.ok(titles.includes('[1, 3, 32, 32] → [1, 10] · 288,554 params · 1.15 MB · 3.07 M MACs · exact (6 top-level statements not run)'), titles.join('\n'));
    assert.ok(titles.includes('fc1 → [1, 256] · 262,400 params · 262 K MACs'), titles.join('\n'));
    const edit = new vscode.WorkspaceEdit();
    edit.insert(cell(2).uri, new vscode.Position(0, 0), '# ');
    await vscode.workspace.applyEdit(edit);
    // Any edit makes PyTorch's numbers stale: the static ones are back until the next save.
    await until(async () => !(await lensTitles(cell(4).uri, 'params')).some((t) => t.endsWith('· exact')), 'the static lenses back');
    const back = new vscode.WorkspaceEdit();
    back.delete(cell(2).uri, new vscode.Range(0, 0, 0, 2));
    await vscode.workspace.applyEdit(back);
  });

  it('shows the whole model’s summary from the cell that builds it', async () => {
    const summary = await vscode.commands.executeCommand<ModelReport | undefined>('cnnLab.showModelSummary', cell(5).uri, 'Net');
    assert.deepEqual([summary?.name, summary?.totalParams, summary?.layers.map((l) => l.name)], ['Net', 23_584 + 262_400 + 2_570, ['conv1', 'conv2', 'conv3', 'pool', 'fc1', 'dropout', 'fc2']]);
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /Total params: 288,554/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('lists the notebook’s model in the Model view and follows the cursor in the active cell', async () => {
    await vscode.window.showNotebookDocument(lesson, { selections: [new vscode.NotebookRange(4, 5)] });
    await vscode.commands.executeCommand('notebook.cell.edit');
    const editor = await until(() => (vscode.window.activeTextEditor?.document === cell(4) ? vscode.window.activeTextEditor : undefined), 'the model cell’s editor to be active');
    await vscode.commands.executeCommand('cnnLab.model.focus');
    // The view may still show the last .py file a moment: wait for the notebook's model (288,554 params once hidden = 256).
    let rows: string[] = [];
    await until(async () => {
      rows = (await workbench.workbenchText('.sidebar .monaco-list-row')).map((r) => r.replace(/\s+/g, ' ').trim());
      return rows.some((r) => /^Net ?\[1, 3, 32, 32\] → \[1, 10\] · 288,554 params/.test(r));
    }, 'the Model view to list the notebook’s Net').catch((error: unknown) => assert.fail(`${String(error)}: ${rows.join(' | ')}`));
    assert.ok(rows.some((r) => /^conv3 ?Conv2d · \[1, 64, 8, 8\]/.test(r)), rows.join('\n'));
    editor.selection = new vscode.Selection(line(cell(4), 'self.fc1 ='), 12, line(cell(4), 'self.fc1 ='), 12);
    const selected = await until(async () => (await workbench.workbenchText('.sidebar .monaco-list-row.selected')).find((t) => t.includes('fc1')), 'fc1 selected');
    assert.match(selected.replace(/\s+/g, ' '), /fc1 ?Linear · \[1, 256\] · 262,400/);
    await workbench.screenshot('notebook-model-view');
    await vscode.commands.executeCommand('workbench.view.explorer');
  });

  it('trains a notebook’s model from its cells, leaving out the cells that use it', async () => {
    const mlp = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder, 'mlp_lesson.ipynb'));
    await vscode.window.showNotebookDocument(mlp);
    const lenses = await until(async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', mlp.cellAt(1).document.uri);
      return found.some((l) => l.command?.command === 'cnnLab.trainModel') ? found : undefined;
    }, 'the Train lens in the model cell');
    const train = lenses.find((l) => l.command?.command === 'cnnLab.trainModel');
    assert.deepEqual(train?.command?.arguments?.map(String), [mlp.cellAt(1).document.uri.toString(), 'Net']);
    const result = await vscode.commands.executeCommand<RunResult>('cnnLab.trainModel', mlp.cellAt(1).document.uri, 'Net', { dataset: 'synthetic', epochs: 1 });
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const config = JSON.parse(readFileSync(join(result.runDir, 'config.json'), 'utf8')) as { modelFile: string; notebook: { path: string; cells: number[] } };
    // The module holds the code cells; the loader ran only what builds Net: cell 2 loops over a train_loader no cell defines.
    assert.deepEqual([config.notebook.path, config.notebook.cells], [mlp.uri.fsPath, [0, 1, 2]]);
    assert.ok(existsSync(config.modelFile));
    assert.doesNotMatch(readFileSync(config.modelFile, 'utf8'), /!pip/, 'shell lines are blanked');
    const settings = JSON.parse(readFileSync(join(folder.fsPath, 'cnn-lab.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(settings['modelFile'], 'mlp_lesson.ipynb');
  });
});
