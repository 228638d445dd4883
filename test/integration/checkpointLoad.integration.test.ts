import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { until, workbench } from './workbench';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';

/** The course's CIFAR-10 CNN, with fc1's width to change. */
const net = (hidden: number) =>
  [
    'class Net(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)',
    '        self.pool = nn.MaxPool2d(2, 2)',
    `        self.fc1 = nn.Linear(16 * 16 * 16, ${hidden})`,
    `        self.fc2 = nn.Linear(${hidden}, 10)`,
    '',
    '    def forward(self, x):',
    '        x = self.pool(F.relu(self.conv1(x)))',
    '        x = x.view(-1, 16 * 16 * 16)',
    '        return self.fc2(F.relu(self.fc1(x)))',
  ].join('\n');
const imports = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F';

/** An nbformat 4 notebook of code cells, as Jupyter saves one. */
const notebook = (cells: string[]) =>
  JSON.stringify({
    cells: cells.map((source) => ({ cell_type: 'code', metadata: {}, source: source.split(/(?<=\n)/), execution_count: null, outputs: [] })),
    metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
    nbformat: 4,
    nbformat_minor: 5,
  });

const hoverText = async (uri: vscode.Uri, position: vscode.Position) =>
  (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position)).flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');

describe('Will this checkpoint load? load_state_dict checked in the editor', () => {
  let folder: vscode.Uri;
  const files = ['checkpoint_lesson.ipynb', 'load_dp.py', 'model_cifar.pt', 'model_dp.pt'];

  before(async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    folder = workspace.uri;
    // The checkpoints PyTorch saved of the model as it was (fc1 500 wide): one plain, one from nn.DataParallel.
    const saved = spawnSync(python, ['-c', `${imports}\n${net(500)}\nmodel = Net()\ntorch.save(model.state_dict(), 'model_cifar.pt')\ntorch.save(nn.DataParallel(model).state_dict(), 'model_dp.pt')`], { cwd: folder.fsPath, encoding: 'utf8' });
    assert.equal(saved.status, 0, saved.stderr);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const name of files) await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, name)).then(undefined, () => undefined);
  });

  it('flags the load_state_dict cell of the course notebook once fc1 is widened, worded as PyTorch words it', async () => {
    await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, files[0] as string), new TextEncoder().encode(notebook([imports, net(500), 'model = Net()', "model.load_state_dict(torch.load('model_cifar.pt'))"])));
    const lesson = await vscode.workspace.openNotebookDocument(vscode.Uri.joinPath(folder, files[0] as string));
    await vscode.window.showNotebookDocument(lesson);
    const [model, load] = [lesson.cellAt(1).document, lesson.cellAt(3).document];
    try {
      const hover = await until(async () => {
        const text = await hoverText(load.uri, new vscode.Position(0, 8));
        return text.includes('all match') ? text : undefined;
      }, 'the hover on a call that loads');
      assert.match(hover, /model_cifar\.pt: 6 tensors, all match Net \(2,053,958 values\)/);
      assert.deepEqual(vscode.languages.getDiagnostics(load.uri), []);

      const edit = new vscode.WorkspaceEdit();
      const at = model.getText().split('\n').findIndex((l) => l.includes('self.fc1 ='));
      edit.replace(model.uri, new vscode.Range(at, 0, at + 2, model.lineAt(at + 1).text.length), '        self.fc1 = nn.Linear(16 * 16 * 16, 600)\n        self.fc2 = nn.Linear(600, 10)');
      await vscode.workspace.applyEdit(edit);
      const diagnostic = await until(() => vscode.languages.getDiagnostics(load.uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic on the load_state_dict cell');
      assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
      assert.equal(diagnostic.range.start.line, 0);
      assert.match(diagnostic.message, /^Error\(s\) in loading state_dict for Net:/);
      assert.match(diagnostic.message, /size mismatch for fc1\.weight: copying a param with shape torch\.Size\(\[500, 4096\]\) from checkpoint, the shape in current model is torch\.Size\(\[600, 4096\]\)\./);
      // Each key's layer, in the model's cell.
      const fc1 = diagnostic.relatedInformation?.find((r) => r.message.startsWith('fc1.weight'));
      assert.equal(fc1?.location.uri.toString(), model.uri.toString());
      assert.equal(fc1?.location.range.start.line, at);
      // As a user meets it: the squiggle on the call, its hover giving PyTorch's words.
      await vscode.window.showNotebookDocument(lesson, { selections: [new vscode.NotebookRange(3, 4)] });
      const editor = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === load.uri.toString()), 'the load cell’s editor');
      editor.selection = new vscode.Selection(0, 8, 0, 8);
      await vscode.commands.executeCommand('editor.action.showHover');
      await until(() => workbench.workbenchText('.monaco-hover').then((t) => t.some((s) => s.includes('size mismatch'))), 'the hover drawn', 10_000);
      await workbench.screenshot('checkpoint-load-notebook');
    } finally {
      await vscode.window.showNotebookDocument(lesson);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('strips a DataParallel checkpoint\'s "module." prefix with its quick fix, and then says it loads', async () => {
    const uri = vscode.Uri.joinPath(folder, files[1] as string);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${imports}\n\n\n${net(500)}\n\n\nmodel = Net()\nmodel.load_state_dict(torch.load('model_dp.pt'))\n`));
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    try {
      await loadsOnceFixed(uri, document);
    } finally {
      // Later suites must meet no unsaved editor (its save prompt would block them).
      if (document.isDirty) {
        await vscode.window.showTextDocument(document);
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
    }
  });
});

/** The DataParallel checkpoint's diagnostic, its quick fix applied, then the hover and Python agreeing that it loads. */
async function loadsOnceFixed(uri: vscode.Uri, document: vscode.TextDocument): Promise<void> {
  const diagnostic = await until(() => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic on load_state_dict');
  assert.match(diagnostic.message, /Unexpected key\(s\) in state_dict: "module\.conv1\.weight"/);
  assert.match(diagnostic.message, /starts with "module\." \(it was saved from nn\.DataParallel\)/);
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diagnostic.range);
  const fix = actions.find((a) => a.title.startsWith('Strip the "module." prefix'));
  assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
  await vscode.workspace.applyEdit(fix.edit);
  assert.ok(document.getText().includes("model.load_state_dict({k.removeprefix('module.'): v for k, v in torch.load('model_dp.pt').items()})"), document.getText());
  await until(() => !vscode.languages.getDiagnostics(uri).some((d) => d.source === 'CNN Lab'), 'the diagnostic to clear');
  const line = document.getText().split('\n').findIndex((l) => l.startsWith('model.load_state_dict'));
  assert.match(await hoverText(uri, new vscode.Position(line, 8)), /model_dp\.pt: 6 tensors, all match Net/);
  // Python agrees: the fixed line loads.
  const ran = spawnSync(python, [uri.fsPath], { cwd: dirname(uri.fsPath), encoding: 'utf8' });
  assert.equal(ran.status, 1, 'the file on disk still has the prefix');
  await document.save();
  const fixed = spawnSync(python, [uri.fsPath], { cwd: dirname(uri.fsPath), encoding: 'utf8' });
  assert.equal(fixed.status, 0, fixed.stderr);
}
