// A model split across files, as model zoos write them: the analysis reads the files a model
// imports, from the importing file's package or the script's folder, and notices when they change.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AnalysisCache, analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports } from '../../src/core/analysis/imports';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { analyzePythonSource, wasmDir } from './support/analysis';

const block = `import torch.nn as nn


class Block(nn.Module):
    expansion = 2

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * self.expansion, 3, stride=stride, padding=1)

    def forward(self, x):
        return self.conv(x)
`;

const model = (importLine: string) => `import torch.nn as nn
${importLine}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Block(3, 8)
        self.head = nn.Linear(16 * 32 * 32, 10)

    def forward(self, x):
        return self.head(self.stem(x).flatten(1))
`;

describe('imports of the project\'s own files', () => {
  let root: string;

  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const analyze = async (importLine: string) => (await analyzePythonSource(model(importLine), [3, 32, 32], join(root, 'pkg/models/net.py'), { input: [1, 3, 32, 32] })).find((m) => m.name === 'Net');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cnnlab-imports-'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('follows relative imports from the package, one and two levels up, and packages\' __init__', async () => {
    write('pkg/models/blocks.py', block);
    write('pkg/layers/__init__.py', 'from .basic import Block\n');
    write('pkg/layers/basic.py', block);
    for (const line of ['from .blocks import Block', 'from ..layers.basic import Block', 'from ..layers import Block']) {
      const net = await analyze(line);
      assert.deepEqual([net?.output, net?.totalParams], [[1, 10], 3 * 3 * 3 * 16 + 16 + 16 * 32 * 32 * 10 + 10], line);
    }
  });

  it('follows absolute imports from the script\'s folder and the folders above it', async () => {
    write('pkg/models/blocks.py', block);
    write('pkg/common.py', block);
    assert.deepEqual((await analyze('from blocks import Block'))?.output, [1, 10]);
    assert.deepEqual((await analyze('from pkg.common import Block'))?.output, [1, 10]);
  });

  it('places layers built in another file at the call that led there, without a quick fix', async () => {
    write('pkg/models/blocks.py', block.replace('nn.Conv2d(cin,', 'nn.Conv2d(cin + 1,'));
    const net = await analyze('from .blocks import Block');
    const conv = net?.layers.find((l) => l.name === 'stem.conv');
    assert.equal(conv?.range.start.line, model('from .blocks import Block').split('\n').findIndex((l) => l.includes('self.stem = Block(3, 8)')));
    const diagnostic = net?.diagnostics.find((d) => d.message.startsWith('stem.conv:'));
    assert.equal(diagnostic?.message, 'stem.conv: Conv2d expects 4 input channels but receives 3');
    assert.equal(diagnostic?.fix, undefined);
  });

  it('says what it cannot read: a missing file, torch itself, installed packages', async () => {
    write('site-packages/mylib/blocks.py', block);
    write('site-packages/project/net.py', model('from mylib.blocks import Block'));
    const missing = await analyze('from .nowhere import Block');
    assert.deepEqual(
      missing?.layers.map((l) => [l.name, l.out, l.note]),
      [
        ['stem', null, '.nowhere.Block() is not analysed'],
        ['head', [1, 10], undefined],
      ],
    );
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const imports = new FileImports(parser, join(root, 'site-packages/project/net.py'));
    assert.equal(imports.resolve('mylib.blocks', 0, undefined), undefined, 'a neighbour in site-packages is another package');
    assert.equal(imports.resolve('torch.nn', 0, undefined), undefined);
    imports.dispose();
  });

  it('analyses again when an imported file changes, and reuses the report while it does not', async () => {
    write('pkg/models/blocks.py', block);
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const path = join(root, 'pkg/models/net.py');
    write('pkg/models/net.py', model('from .blocks import Block'));
    const tree = parser.parse(model('from .blocks import Block'));
    assert.ok(tree);
    const imports = new FileImports(parser, path);
    const cache = new AnalysisCache();
    const options = { defaultInput: [3, 32, 32], imports };
    analyzeTree(tree, options, cache);
    const cached = cache.entries.get('class:Net')?.report;
    analyzeTree(tree, options, cache);
    assert.ok(imports.readPaths().includes(join(root, 'pkg/models/blocks.py')));
    assert.ok(cached);
    assert.equal(cache.entries.get('class:Net')?.report, cached, 'the cached report, not analysed again');
    write('pkg/models/blocks.py', block.replace('expansion = 2', 'expansion = 4'));
    utimesSync(join(root, 'pkg/models/blocks.py'), new Date(), new Date(Date.now() + 5000));
    const changed = analyzeTree(tree, options, cache).find((m) => m.name === 'Net');
    assert.notEqual(cache.entries.get('class:Net')?.report, cached);
    assert.deepEqual(changed?.layers.find((l) => l.name === 'stem.conv')?.out, [1, 32, 32, 32]);
    assert.match(changed?.diagnostics[0]?.message ?? '', /^head: Linear expects 16384 input features but receives 32768$/);
    imports.dispose();
    tree.delete();
  });

  it('stops at a cycle of imports and at its file limit', async () => {
    write('pkg/models/a.py', 'from .b import Block\n');
    write('pkg/models/b.py', 'from .a import Block\n');
    const cyclic = await analyze('from .a import Block');
    assert.equal(cyclic?.output?.[1], 10, 'the head still fixes the output');
    const parser = (await loadGrammars(wasmDir)).parser('python');
    for (let i = 0; i < 3; i++) write(`pkg/m${i}.py`, block);
    const imports = new FileImports(parser, join(root, 'pkg/main.py'), undefined, 2);
    assert.ok(imports.resolve('m0', 0, undefined));
    assert.ok(imports.resolve('m1', 0, undefined));
    assert.equal(imports.resolve('m2', 0, undefined), undefined, 'past the limit');
    imports.dispose();
  });
});
