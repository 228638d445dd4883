// The cache an editor keeps per document: an edit of a module-level statement analyses again the
// models that read what it binds, and only those; each answer equals a fresh analysis.
import assert from 'node:assert/strict';
import { AnalysisCache, analyzeTree } from '../../src/core/analysis/analyze';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars, type Parser } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';

const file = `import torch.nn as nn

BASE = 8
WIDTH = BASE * 2


class Wide(nn.Module):
    expansion = 1

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, WIDTH * self.expansion, 3)

    def forward(self, x):
        return self.conv(x)


class Fixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x):
        return self.fc(x)
`;

/** A model built at module level and `net.apply(init)` of a function whose body is given (indented once). */
function applied(body: string): string {
  return `\n\ndef init(m):\n    if isinstance(m, (nn.Conv2d, nn.Linear)):\n        pass\n    ${body}\n\n\nnet = Fixed().to('cpu')\nnet.apply(init)\n`;
}

describe('the analysis cache and module-level statements', () => {
  let parser: Parser;
  before(async () => {
    parser = (await loadGrammars(wasmDir)).parser('python');
  });

  const analyse = (text: string, cache?: AnalysisCache): ModelReport[] => {
    const tree = parser.parse(text);
    if (!tree) throw new Error('no tree');
    try {
      return analyzeTree(tree, { defaultInput: [3, 32, 32] }, cache);
    } finally {
      tree.delete();
    }
  };
  const byName = (reports: ModelReport[], name: string) => reports.find((r) => r.name === name) as ModelReport;
  const params = (reports: ModelReport[], name: string) => byName(reports, name).totalParams;

  /** Each edit in turn on one cache: the answer equals a fresh one, and the models it reused are those named. */
  const edits: { name: string; edit: (text: string) => string; changes: string[]; wide?: number; complete?: boolean }[] = [
    { name: 'a number typed at the end of the file', edit: (t) => `${t}1\n`, changes: [] },
    { name: 'a bare name a notebook shows', edit: (t) => `${t}model\n`, changes: [] },
    { name: 'a constant the model reads', edit: (t) => t.replace('WIDTH = BASE * 2', 'WIDTH = BASE * 4'), changes: ['Wide'], wide: 3 * 32 * 9 + 32 },
    { name: 'a constant read by the statement the model reads', edit: (t) => t.replace('BASE = 8', 'BASE = 4'), changes: ['Wide'], wide: 3 * 8 * 9 + 8 },
    { name: 'a later binding of a name the model reads', edit: (t) => `${t}WIDTH = 6\n`, changes: ['Wide'], wide: 3 * 6 * 9 + 6 },
    { name: 'a class attribute set at module level', edit: (t) => `${t}Wide.expansion = 2\n`, changes: ['Wide'], wide: 3 * 32 * 9 + 32 },
    { name: 'a name bound that no model reads', edit: (t) => `${t}epochs = 10\n`, changes: [] },
    { name: 'a call run for its effect', edit: (t) => `${t}setattr(Wide, 'expansion', 3)\n`, changes: ['Wide', 'Fixed'], wide: 3 * 48 * 9 + 48 },
    { name: 'a name deleted', edit: (t) => `${t}del WIDTH\n`, changes: ['Wide', 'Fixed'], complete: false },
    { name: "a model's weights initialised", edit: (t) => `${t}${applied('nn.init.zeros_(m.weight)')}`, changes: [] },
    { name: 'a class name tested to initialise', edit: (t) => `${t}${applied("name = m.__class__.__name__\n    if name.find('Linear') != -1:\n        m.weight.data.normal_(0, 0.02)")}`, changes: [] },
    { name: 'a function applied that freezes', edit: (t) => `${t}${applied('m.weight.requires_grad = False')}`, changes: ['Wide', 'Fixed'] },
    { name: 'a function applied that sets a global', edit: (t) => `${t}${applied('global WIDTH\n    WIDTH = 2')}`, changes: ['Wide', 'Fixed'] },
  ];

  it('reuses a report when an edit binds nothing the model read, and answers as a fresh analysis after every edit', () => {
    const cache = new AnalysisCache();
    const first = analyse(file, cache);
    assert.equal(params(first, 'Wide'), 3 * 16 * 9 + 16);
    assert.equal(params(first, 'Fixed'), 44);
    for (const { name, edit, changes, wide, complete = true } of edits) {
      const before = analyse(file, cache);
      const text = edit(file);
      const after = analyse(text, cache);
      assert.deepEqual(JSON.parse(JSON.stringify(after)), JSON.parse(JSON.stringify(analyse(text))), `${name}: the cached answer differs from a fresh one`);
      for (const model of ['Wide', 'Fixed']) {
        const reused = byName(after, model) === byName(before, model);
        assert.equal(reused, !changes.includes(model), `${name}: ${model} was ${reused ? 'reused' : 'analysed again'}`);
      }
      if (wide !== undefined) assert.equal(params(after, 'Wide'), wide, name);
      assert.equal(byName(after, 'Wide').complete, complete, `${name}: Wide's completeness`);
    }
  });

  it('relabels a factory renamed as its name is typed, and builds again one that reads its own name', () => {
    const withFactories = `${file}

def stacked(depth=2):
    """Wide blocks."""
    return nn.Sequential(*[Wide() for _ in range(depth)])


def named():
    depth = len(named.__name__)
    return nn.Sequential(*[nn.Linear(4, 4) for _ in range(depth)])


def small(): return nn.Linear(4, 2)
`;
    const cache = new AnalysisCache();
    const before = analyse(withFactories, cache);
    assert.equal(params(before, 'named'), 5 * 20);
    // A digit typed into each name, then taken out: each answer is a fresh analysis's, and only `stacked` is relabelled
    // (`small`'s layer is on the line whose name changed).
    const renames: [string, boolean][] = [['stacked', true], ['named', false], ['small', false]];
    for (const [name, relabelled] of renames) {
      const renamed = withFactories.replace(`def ${name}(`, `def ${name}2(`);
      const after = analyse(renamed, cache);
      assert.deepEqual(JSON.parse(JSON.stringify(after)), JSON.parse(JSON.stringify(analyse(renamed))), `${name}2: the cached answer differs from a fresh one`);
      assert.equal(after.find((r) => r.name === `${name}2`)?.layers === byName(before, name).layers, relabelled, `${name}2 ${relabelled ? 'was built again' : 'was relabelled'}`);
      const back = analyse(withFactories, cache);
      assert.deepEqual(JSON.parse(JSON.stringify(back)), JSON.parse(JSON.stringify(before)), `${name}: the answer after the rename is undone`);
    }
    // Renamed, `named` reads a name no longer defined: PyTorch raises, and it is no model.
    assert.equal(analyse(withFactories.replace('def named(', 'def named2('), cache).find((r) => r.name === 'named2'), undefined);
  });

  it('gives a factory its lens back when an edit of the class it builds is undone', () => {
    // While Wide's __init__ raises, wide() builds no model and has no lens; that answer depends on Wide's text too.
    const withFactory = `${file}

def wide():
    return Wide()
`;
    const cache = new AnalysisCache();
    assert.ok(byName(analyse(withFactory, cache), 'wide'));
    const broken = withFactory.replace('super().__init__()\n        self.conv', 'raise ValueError()\n        self.conv');
    assert.notEqual(broken, withFactory);
    assert.deepEqual(analyse(broken, cache).map((r) => r.name), analyse(broken).map((r) => r.name));
    assert.deepEqual(JSON.parse(JSON.stringify(analyse(withFactory, cache))), JSON.parse(JSON.stringify(analyse(withFactory))));
    assert.equal(byName(analyse(withFactory, cache), 'wide').totalParams, 3 * 16 * 9 + 16);
  });
});
