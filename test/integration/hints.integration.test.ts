import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { lensTitles, replaceText, restoreFile, until, workbench } from './workbench';

describe('Shape hints in a model file', () => {
  let document: vscode.TextDocument;
  let original = '';

  before(async () => {
    const [uri] = await vscode.workspace.findFiles('cifar_cnn.py');
    assert.ok(uri, 'the examples workspace has cifar_cnn.py');
    document = await vscode.workspace.openTextDocument(uri);
    original = document.getText();
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    // The file as it was, in the editor and on disk: later suites read it.
    await restoreFile(document, original);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows the model and every layer in CodeLenses, with PyTorch\'s numbers', async () => {
    const lenses = await until(async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
      return found.some((l) => l.command?.title.includes('params')) ? found : undefined;
    }, 'CNN Lab\'s CodeLenses');
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.includes('[1, 3, 32, 32] → [1, 10] · 541,094 params · 2.16 MB · 3.32 M MACs'), titles.join('\n'));
    assert.ok(titles.includes('conv1 → [1, 16, 32, 32] · 448 params · 442 K MACs'));
    assert.ok(titles.includes('fc1 → [1, 500] · 512,500 params · 512 K MACs'));
    const modelLens = lenses.find((l) => l.command?.command === 'cnnLab.showModelSummary');
    assert.equal(modelLens?.range.start.line, document.getText().split('\n').findIndex((line) => line.startsWith('class Net')));
    await until(() => workbench.workbenchText('.contentwidget .codelens-decoration, .codelens-decoration').then((t) => t.some((s) => s.includes('541,094'))), 'the lenses drawn in the editor');
    await workbench.screenshot('editor-hints');
  });

  it('explains the arithmetic on hover, as the course writes it', async () => {
    const line = document.getText().split('\n').findIndex((l) => l.includes('self.conv1 = nn.Conv2d'));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line, 22));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /\(W − F \+ 2P\)\/S \+ 1 = \(32 − 3 \+ 2·1\)\/1 \+ 1 = 32/);
    assert.match(text, /params: K·F·F·D_in \+ K = 16·3·3·3 \+ 16 = 448/);
    assert.match(text, /MACs: out elements · C_in\/groups · F·F = 16·32·32 · 3 · 3·3 = 442,368/);
    assert.match(text, /receptive field: 3×3 input pixels \(jump 1\)/);
  });

  it('flags a wrong flatten size and fixes it with the quick fix', async () => {
    const editor = await vscode.window.showTextDocument(document);
    const wrong = 'nn.Linear(64 * 8 * 8, 500)';
    const offset = document.getText().indexOf('nn.Linear(64 * 4 * 4, 500)');
    assert.ok(offset > 0);
    await editor.edit((edit) => edit.replace(new vscode.Range(document.positionAt(offset), document.positionAt(offset + wrong.length)), wrong));
    const diagnostic = await until(() => vscode.languages.getDiagnostics(document.uri).find((d) => d.source === 'CNN Lab'), 'the diagnostic');
    assert.equal(diagnostic.message, 'fc1: Linear expects 4096 input features but receives 1024');
    assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
    const lensTitles = async () => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)).map((l) => l.command?.title);
    assert.ok((await lensTitles()).includes('⚠ fc1 → [1, 500] · 2,048,500 params · 2.05 M MACs'));
    await workbench.screenshot('editor-diagnostic');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', document.uri, diagnostic.range);
    const fix = actions.find((a) => a.title === 'Change in_features to 1024');
    assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
    await vscode.workspace.applyEdit(fix.edit);
    assert.ok(document.getText().includes('self.fc1 = nn.Linear(1024, 500)'));
    await until(() => !vscode.languages.getDiagnostics(document.uri).some((d) => d.source === 'CNN Lab'), 'the diagnostic to clear');
    assert.ok((await lensTitles()).includes('fc1 → [1, 500] · 512,500 params · 512 K MACs'));
  });

  it('writes the input annotation with the quick fix on the model\'s name', async () => {
    const classLine = document.getText().split('\n').findIndex((line) => line.startsWith('class Net'));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', document.uri, new vscode.Range(classLine, 6, classLine, 9));
    const annotate = actions.find((a) => a.title === 'Annotate the input shape (# cnnlab: input 3x32x32)');
    assert.ok(annotate?.edit, actions.map((a) => a.title).join(', '));
    await vscode.workspace.applyEdit(annotate.edit);
    assert.equal(document.lineAt(classLine).text, '# cnnlab: input 3x32x32');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    assert.match(lenses.find((l) => l.command?.command === 'cnnLab.showModelSummary')?.command?.tooltip ?? '', /^Input from annotation;/);
    await vscode.commands.executeCommand('undo');
  });

  it('opens the model summary from its CodeLens command', async () => {
    await vscode.commands.executeCommand('cnnLab.showModelSummary', document.uri, 'Net');
    const summary = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'cnnlab-summary'), 'the summary');
    const text = summary.document.getText();
    assert.match(text, /^Net: input \[1, 3, 32, 32\] \(first layer\) → output \[1, 10\]/);
    assert.match(text, /conv3 \(Conv2d\)\s+\[1, 64, 8, 8\]\s+18,496/);
    assert.match(text, /Total params: 541,094/);
    assert.match(text, /Total mult-adds \(M\): 3\.32/);
    await workbench.screenshot('model-summary');
  });

  it('compares the course\'s MLP with this CNN side by side (Compare Models…)', async () => {
    const [mlp] = await vscode.workspace.findFiles('mnist_mlp.py');
    assert.ok(mlp);
    const diff = await vscode.commands.executeCommand<{ rows: { status: string }[] }>('cnnLab.compareModels', mlp, 'Net', document.uri, 'Net');
    assert.deepEqual(diff.rows.map((r) => r.status), ['added', 'added', 'added', 'added', 'changed', 'added', 'changed', 'removed', 'removed']);
    const shown = await until(() => vscode.window.visibleTextEditors.find((e) => e.document.uri.path === '/Net vs Net'), 'the comparison');
    const text = shown.document.getText();
    assert.match(text, /^A: Net in mnist_mlp\.py\nB: Net in cifar_cnn\.py\n/);
    assert.match(text, /^\+ +│ {2}conv1 \(Conv2d\) +\[1, 16, 32, 32\] +448$/m);
    assert.match(text, /^Total params: 669,706 → 541,094 \(−128,612\)$/m);
    // The README's picture: the comparison alone, at full width.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.joinAllGroups');
    await vscode.window.showTextDocument(shown.document);
    await vscode.commands.executeCommand('notifications.clearAll');
    await workbench.screenshot('compare-models');
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
});

describe('Exact shapes after a save', () => {
  let document: vscode.TextDocument;
  const modelLens = async () =>
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)).find((l) => l.command?.command === 'cnnLab.showModelSummary')?.command?.title ?? '';

  let original = '';

  before(async () => {
    const [uri] = await vscode.workspace.findFiles('mnist_mlp.py');
    assert.ok(uri);
    document = await vscode.workspace.openTextDocument(uri);
    original = document.getText();
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await restoreFile(document, original);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  async function editAndSave(edit: (text: string) => string): Promise<void> {
    await replaceText(document, edit(document.getText()));
    assert.ok(await document.save());
  }

  it('replaces the static hints with PyTorch\'s once the file is saved, until the next edit', async () => {
    assert.equal(await modelLens(), '[1, 784] → [1, 10] · 669,706 params · 2.68 MB · 669 K MACs');
    await editAndSave((text) => `${text}# saved by the test\n`);
    const exact = await until(async () => ((await modelLens()).endsWith('· exact') ? modelLens() : undefined), 'the exact lens', 60_000);
    assert.equal(exact, '[1, 784] → [1, 10] · 669,706 params · 2.68 MB · 669 K MACs · exact');
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '#'));
    assert.equal(await modelLens(), '[1, 784] → [1, 10] · 669,706 params · 2.68 MB · 669 K MACs');
  });

  it('says what the guard refused when a model\'s own code reaches for the network, and keeps the static shapes', async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    const uri = vscode.Uri.joinPath(workspace.uri, 'downloads.py');
    const text = [
      'import urllib.request',
      '',
      'import torch.nn as nn',
      '',
      '',
      'class Downloads(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        urllib.request.urlopen("https://example.com/weights.pt")',
      '        self.fc = nn.Linear(4, 2)',
      '',
      '    def forward(self, x):',
      '        return self.fc(x)',
      '',
    ].join('\n');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    const downloads = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(downloads);
    await editor.edit((edit) => edit.insert(new vscode.Position(13, 0), '\n'));
    assert.ok(await downloads.save());
    const notice = await until(() => vscode.languages.getDiagnostics(uri).find((d) => d.message.startsWith('Downloads: exact shapes')), 'the refusal', 60_000);
    assert.equal(notice.message, "Downloads: exact shapes does not let a model's code connect to example.com (downloads.py line 9): it runs only to build the model. The static shapes stay.");
    assert.equal(notice.severity, vscode.DiagnosticSeverity.Information);
    const titles = await lensTitles(uri, '[1, 4] → [1, 2]');
    assert.ok(!titles.some((t) => t.endsWith('· exact')), 'the static shapes stay');
    editor.selection = new vscode.Selection(5, 8, 5, 8);
    await vscode.commands.executeCommand('editor.action.showHover');
    await until(() => workbench.workbenchText('.monaco-hover').then((t) => t.some((s) => s.includes('does not let a model'))), 'the refusal in the hover', 10_000);
    await workbench.screenshot('editor-exact-refused');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await vscode.workspace.fs.delete(uri);
  });

  it('says in the exact lens how much of a course script\'s top level it did not run, and which lines', async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    const uri = vscode.Uri.joinPath(workspace.uri, 'course_script.py');
    const script = await vscode.workspace.fs.readFile(vscode.Uri.file(`${process.env['CNN_LAB_REPO'] ?? ''}/test/fixtures/scripts/course_script.py`));
    await vscode.workspace.fs.writeFile(uri, script);
    const editor = await vscode.window.showTextDocument(uri);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# saved by the test\n'));
    assert.ok(await editor.document.save());
    const lenses = await until(async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      return found.some((l) => l.command?.title.includes('· exact')) ? found : undefined;
    }, 'the exact lenses', 60_000);
    // The module-level model, with its conv frozen after it is built.
    const model = lenses.find((l) => l.command?.title.includes('trainable') && l.command.title.includes('· exact'))?.command;
    assert.match(model?.title ?? lenses.map((l) => `${l.range.start.line}: ${l.command?.title}`).join('\n'), /^\[1, 1, 28, 28\] → \[1, 10\] · 173,810 params \(173,770 trainable\) · 0\.70 MB · 198 K MACs · exact \(9 top-level statements not run\)$/);
    assert.match(model?.tooltip ?? '', /Not run \(exact mode runs only what builds the model\):\nline 17: HERE = .*\nline 42: open\(os\.path\.join\(HERE, "written"\)/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await vscode.workspace.fs.delete(uri);
  });

  it('shows the error PyTorch raises when the saved model cannot run', async () => {
    await editAndSave((text) => text.replace('x = x.view(-1, 28 * 28)', 'x = x[:, :700]'));
    const warning = await until(() => vscode.languages.getDiagnostics(document.uri).find((d) => d.message.startsWith('PyTorch could not run')), 'PyTorch\'s error', 60_000);
    assert.match(warning.message, /^PyTorch could not run Net on 1×784: RuntimeError: mat1 and mat2 shapes cannot be multiplied \(1x700 and 784x512\)/);
    assert.equal(warning.severity, vscode.DiagnosticSeverity.Warning);
  });
});

describe('Shape hints in a TF.js model file', () => {
  it('shows the model and its layers in NHWC, with TF.js\'s parameter counts', async () => {
    const [uri] = await vscode.workspace.findFiles('tfjs_mnist_cnn.js');
    assert.ok(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const titles = await lensTitles(document.uri, 'params');
    assert.ok(titles.includes('[1, 28, 28, 1] → [1, 10] · 206,922 params · 0.83 MB · 1.22 M MACs'), titles.join('\n'));
    assert.ok(titles.includes('conv2d_1 → [1, 28, 28, 16] · 160 params · 113 K MACs'));
    assert.ok(titles.includes('flatten_1 → [1, 1568]'));
    await until(() => workbench.workbenchText('.codelens-decoration').then((t) => t.some((s) => s.includes('206,922'))), 'the lenses drawn in the editor');
    await workbench.screenshot('editor-tfjs');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("follows the image size imported from a sibling module, the editor's unsaved text included", async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    const folder = vscode.Uri.joinPath(workspace.uri, 'tfjs-sibling');
    const data = vscode.Uri.joinPath(folder, 'data.js');
    const model = vscode.Uri.joinPath(folder, 'index.js');
    const write = (uri: vscode.Uri, lines: string[]) => vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(lines.join('\n')));
    await write(data, ['export const IMAGE_H = 28;', 'export const IMAGE_W = 28;', '']);
    await write(model, [
      "import * as tf from '@tensorflow/tfjs';",
      "import {IMAGE_H, IMAGE_W} from './data';",
      '',
      'export function createConvModel() {',
      '  const model = tf.sequential();',
      '  model.add(tf.layers.conv2d({inputShape: [IMAGE_H, IMAGE_W, 1], kernelSize: 3, filters: 16, activation: "relu"}));',
      '  model.add(tf.layers.flatten());',
      '  model.add(tf.layers.dense({units: 10, activation: "softmax"}));',
      '  return model;',
      '}',
      '',
    ]);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(model));
    const titles = await lensTitles(model, 'params');
    assert.ok(titles.some((t) => t.startsWith('[1, 28, 28, 1] → [1, 10] · 108,330 params')), titles.join('\n'));
    // The sibling edited and not saved: the model file follows the editor's text.
    const dataDocument = await vscode.workspace.openTextDocument(data);
    const saved = dataDocument.getText();
    await replaceText(dataDocument, 'export const IMAGE_H = 32;\nexport const IMAGE_W = 28;\n');
    const edited = await lensTitles(model, '[1, 32, 28, 1]');
    assert.ok(edited.some((t) => t.startsWith('[1, 32, 28, 1] → [1, 10] · 124,970 params')), edited.join('\n'));
    // Nothing left unsaved: a dirty document would ask to be saved when the next test closes its editors.
    await restoreFile(dataDocument, saved);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(folder, { recursive: true });
  });
});

describe('The Model view', () => {
  it('lists the active file\'s layers with their shapes and follows the cursor', async () => {
    const [uri] = await vscode.workspace.findFiles('cifar_cnn.py');
    assert.ok(uri);
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    assert.ok(editor.document.getText().includes('nn.Linear(64 * 4 * 4, 500)'), 'the example is as the repository has it');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
    assert.ok(lenses.some((l) => l.command?.title === 'fc1 → [1, 500] · 512,500 params · 512 K MACs'), 'the lenses agree with the view');
    // VS Code redraws lenses only while the editor has focus (it cancels the refresh on blur).
    await until(async () => (await workbench.workbenchText('.codelens-decoration')).some((t) => t.includes('fc1 → [1, 500] · 512,500 params')), 'the drawn lenses to show the current numbers', 10_000);
    await vscode.commands.executeCommand('cnnLab.model.focus');
    const rows = await until(async () => {
      const texts = await workbench.workbenchText('.sidebar .monaco-list-row');
      return texts.some((t) => t.includes('conv3')) ? texts : undefined;
    }, 'the Model view\'s rows');
    // Label and description render as two spans, with no space between them in innerText.
    const flat = rows.map((r) => r.replace(/\s+/g, ' ').trim());
    assert.ok(flat.some((r) => /^Net ?\[1, 3, 32, 32\] → \[1, 10\] · 541,094 params · 3\.32 M MACs( · exact)?$/.test(r)), flat.join('\n'));
    assert.ok(flat.some((r) => /^conv1 ?Conv2d · \[1, 16, 32, 32\] · 448 · 442 K MACs$/.test(r)), flat.join('\n'));
    const line = editor.document.getText().split('\n').findIndex((l) => l.includes('self.fc1 ='));
    editor.selection = new vscode.Selection(line, 12, line, 12);
    const selected = await until(async () => (await workbench.workbenchText('.sidebar .monaco-list-row.selected')).find((t) => t.includes('fc1')), 'fc1 selected');
    assert.match(selected.replace(/\s+/g, ' '), /fc1 ?Linear · \[1, 500\] · 512,500/);
    await workbench.screenshot('sidebar-model');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.view.explorer');
  });
});

describe('Shape hints on code somebody else wrote', () => {
  // A CIFAR model zoo's layout: the blocks in one file, the ResNet in another that imports them,
  // a subclass that fixes the depth, a factory, and a layer the analysis cannot follow.
  const files: Record<string, string> = {
    'zoo_blocks.py': [
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      '',
      '',
      'class BasicBlock(nn.Module):',
      '    expansion = 1',
      '',
      '    def __init__(self, in_planes, planes, stride=1):',
      '        super(BasicBlock, self).__init__()',
      '        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)',
      '        self.bn1 = nn.BatchNorm2d(planes)',
      '        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)',
      '        self.bn2 = nn.BatchNorm2d(planes)',
      '        self.shortcut = nn.Sequential()',
      '        if stride != 1 or in_planes != self.expansion * planes:',
      '            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(self.expansion * planes))',
      '',
      '    def forward(self, x):',
      '        out = F.relu(self.bn1(self.conv1(x)))',
      '        out = self.bn2(self.conv2(out))',
      '        return F.relu(out + self.shortcut(x))',
      '',
    ].join('\n'),
    'zoo_resnet.py': [
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      'from zoo_blocks import BasicBlock',
      'from somewhere_else import MysteryLayer',
      '',
      '',
      'class ResNet(nn.Module):',
      '    def __init__(self, block, num_blocks, num_classes=10):',
      '        super(ResNet, self).__init__()',
      '        self.in_planes = 64',
      '        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)',
      '        self.bn1 = nn.BatchNorm2d(64)',
      '        self.layer1 = self._make_layer(block, 64, num_blocks[0], stride=1)',
      '        self.layer2 = self._make_layer(block, 128, num_blocks[1], stride=2)',
      '        self.layer3 = self._make_layer(block, 256, num_blocks[2], stride=2)',
      '        self.layer4 = self._make_layer(block, 512, num_blocks[3], stride=2)',
      '        self.linear = nn.Linear(512 * block.expansion, num_classes)',
      '',
      '    def _make_layer(self, block, planes, num_blocks, stride):',
      '        layers = []',
      '        for stride in [stride] + [1] * (num_blocks - 1):',
      '            layers.append(block(self.in_planes, planes, stride))',
      '            self.in_planes = planes * block.expansion',
      '        return nn.Sequential(*layers)',
      '',
      '    def forward(self, x):',
      '        out = F.relu(self.bn1(self.conv1(x)))',
      '        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))',
      '        out = F.avg_pool2d(out, 4)',
      '        return self.linear(out.view(out.size(0), -1))',
      '',
      '',
      'class ResNet18(ResNet):',
      '    def __init__(self):',
      '        super().__init__(BasicBlock, [2, 2, 2, 2])',
      '',
      '',
      'def ResNet34():',
      '    return ResNet(BasicBlock, [3, 4, 6, 3])',
      '',
      '',
      'class Partly(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.stem = MysteryLayer()',
      '        self.conv = nn.Conv2d(64, 128, 3, padding=1)',
      '',
      '    def forward(self, x):',
      '        return self.conv(self.stem(x))',
      '',
    ].join('\n'),
    // The course's transfer-learning lesson: torchvision's VGG16, its features frozen, a new last layer.
    'transfer_vgg.py': [
      'import torch.nn as nn',
      'from torchvision import models',
      '',
      'model = models.vgg16(pretrained=True)',
      'for param in model.features.parameters():',
      '    param.requires_grad = False',
      'model.classifier[6] = nn.Linear(model.classifier[6].in_features, 5)',
      '',
    ].join('\n'),
  };
  let document: vscode.TextDocument;
  let folder: vscode.Uri;

  before(async () => {
    const [workspace] = vscode.workspace.workspaceFolders ?? [];
    assert.ok(workspace);
    folder = workspace.uri;
    for (const [name, text] of Object.entries(files)) await vscode.workspace.fs.writeFile(vscode.Uri.joinPath(folder, name), new TextEncoder().encode(text));
    document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'zoo_resnet.py'));
    await vscode.window.showTextDocument(document);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const name of Object.keys(files)) await vscode.workspace.fs.delete(vscode.Uri.joinPath(folder, name));
  });

  const line = (text: string) => document.getText().split('\n').findIndex((l) => l.includes(text));

  it('follows a subclass through super().__init__ into blocks imported from another file', async () => {
    const lenses = await until(async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
      return found.some((l) => l.command?.title.includes('11,173,962')) ? found : undefined;
    }, 'the ResNet18 lens');
    const at = (row: number) => lenses.filter((l) => l.range.start.line === row).map((l) => l.command?.title ?? '');
    // PyTorch's own numbers for kuangliu's ResNet18 on CIFAR-10: 11,173,962 parameters, 556 M MACs.
    assert.deepEqual(at(line('class ResNet18(ResNet)')), ['[1, 3, 32, 32] → [1, 10] · 11,173,962 params · 44.70 MB · 556 M MACs', '$(play) Train…']);
    // The blocks are built in zoo_blocks.py: their layers are shown at the line that builds them here.
    const blocks = at(line('layers.append(block('));
    assert.equal(blocks.length, 1, blocks.join('\n'));
    // 8 blocks of conv1, bn1, conv2, bn2 and a shortcut (an empty nn.Sequential, or a conv and a BatchNorm where the size changes).
    assert.equal(blocks[0], 'layer1.0.conv1 … layer4.1.shortcut (43 layers) → [1, 64, 32, 32] … [1, 512, 4, 4] · 11,166,976 params · 554 M MACs');
    const editor = await vscode.window.showTextDocument(document);
    editor.revealRange(new vscode.Range(line('layers.append(block('), 0, line('layers.append(block('), 0), vscode.TextEditorRevealType.AtTop);
    await until(() => workbench.workbenchText('.codelens-decoration').then((t) => t.some((s) => s.includes('11,173,962'))), 'the lenses drawn in the editor');
    await workbench.screenshot('editor-hints-zoo');
  });

  it('gives a factory its own lens', async () => {
    const titles = await lensTitles(document.uri, '21,282,122');
    assert.ok(titles.includes('[1, 3, 32, 32] → [1, 10] · 21,282,122 params · 85.13 MB · 1.16 G MACs'), titles.join('\n'));
  });

  it('shows what a layer fixes after one it cannot follow, and why the rest is unknown', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    const conv = lenses.find((l) => l.range.start.line === line('self.conv = nn.Conv2d(64, 128'))?.command?.title ?? '';
    assert.equal(conv, 'conv → [1, 128, ?, ?] · 73,856 params');
    const stem = lenses.find((l) => l.range.start.line === line('self.stem = MysteryLayer()'))?.command?.title ?? '';
    assert.match(stem, /^stem → \? .*somewhere_else\.MysteryLayer/);
  });

  it('marks a model it could not follow as incomplete, in its lens and its hover, with the line', async () => {
    const row = line('class Partly(nn.Module)');
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
    const model = lenses.find((l) => l.range.start.line === row && l.command?.title.includes('params'))?.command?.title ?? '';
    // MysteryLayer's parameters are not known: the count is a lower bound, and the lens names the cause and its line.
    const mystery = line('self.stem = MysteryLayer()') + 1;
    assert.match(model, new RegExp(`→ \\[1, 128, \\?, \\?\\] · ≥ 73,856 params · .* · incomplete: stem: somewhere_else\\.MysteryLayer\\(\\) is not analysed \\(line ${mystery}\\)$`));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(row, 8));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /Partly: incomplete/);
    assert.match(text, /≥ 73,856/);
    assert.ok(text.includes(`line ${mystery}: stem: somewhere_else.MysteryLayer() is not analysed`), text);
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(row, 8, row, 8);
    editor.revealRange(new vscode.Range(row, 0, row, 0), vscode.TextEditorRevealType.InCenter);
    await until(() => workbench.workbenchText('.codelens-decoration').then((t) => t.some((s) => s.includes('incomplete:'))), 'the incomplete lens drawn', 10_000);
    await vscode.commands.executeCommand('editor.action.showHover');
    await until(() => workbench.workbenchText('.monaco-hover').then((t) => t.some((s) => s.includes('Partly: incomplete'))), 'the hover shown', 10_000);
    await workbench.screenshot('editor-hints-incomplete');
  });

  it('reads torchvision\'s VGG16 from the interpreter\'s packages, never running it: the lesson\'s frozen features counted apart', async () => {
    const uri = vscode.Uri.joinPath(folder, 'transfer_vgg.py');
    await vscode.window.showTextDocument(uri);
    // PyTorch's count of this model (test/unit/packages.unit.test.ts checks it against torchvision itself).
    const titles = await lensTitles(uri, '134,281,029', 60_000);
    assert.ok(titles.some((t) => /^\[1, 3, \d+, \d+\] → \[1, 5\] · 134,281,029 params \(119,566,341 trainable\)/.test(t)), titles.join('\n'));
    assert.ok(!titles.some((t) => t.includes('incomplete')), titles.join('\n'));
    await vscode.window.showTextDocument(document);
  });

  it('hovers a convolution with its MACs and receptive field', async () => {
    const row = line('self.conv1 = nn.Conv2d(3, 64');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(row, 22));
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /MACs: out elements · C_in\/groups · F·F = 64·32·32 · 3 · 3·3 = 1,769,472/);
    assert.match(text, /receptive field: 3×3 input pixels \(jump 1\)/);
  });
});
