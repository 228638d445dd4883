// load_state_dict checked before it runs (stateDictLoads.ts finds the calls, loadCheck.ts checks
// them): each case is a script that loads a checkpoint PyTorch saved, as users write them. What the
// analysis says of the call is held against what Python does with the same script: a diagnostic
// where Python raises, none and a hover saying it loads where Python loads it; and each quick fix,
// applied to the script, makes Python load it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { findStateDictLoads } from '../../src/core/analysis/python/stateDictLoads';
import type { SourceRange } from '../../src/core/analysis/report';
import { loadGrammars, Node, type Parser } from '../../src/core/analysis/syntax';
import { readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { checkLoads, type CheckpointFinding } from '../../src/core/checkpoints/loadCheck';
import { formatStateDictTable, stateDictTable } from '../../src/core/checkpoints/stateDictCheck';
import { python } from '../support/corpus';
import { wasmDir } from './support/analysis';

const imports = 'import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n';
const net = (hidden: number, conv = 'conv1') => `
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.${conv} = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc1 = nn.Linear(8 * 16 * 16, ${hidden})
        self.fc2 = nn.Linear(${hidden}, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.${conv}(x))), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))

`;

/** A language model's output layer tied to its embedding: state_dict lists the one tensor under both names. */
const tied = `
class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.out = nn.Linear(16, 100, bias=False)
        self.out.weight = self.embed.weight

    def forward(self, x):
        return self.out(self.embed(x))

`;

/** Scripts as users write them after saving: the model as it is now, and how it loads the file. */
const cases: { name: string; model: string; load: string; says: RegExp }[] = [
  { name: 'the same model', model: net(50), load: "model = Net()\nmodel.load_state_dict(torch.load('plain.pt'))", says: /plain\.pt: 11 tensors, all match Net/ },
  { name: 'fc1 widened', model: net(60), load: "model = Net()\nmodel.load_state_dict(torch.load('plain.pt'))", says: /size mismatch for fc1\.weight: copying a param with shape torch\.Size\(\[50, 2048\]\) from checkpoint, the shape in current model is torch\.Size\(\[60, 2048\]\)/ },
  { name: 'fc1 widened, the path joined', model: net(60), load: "import os\nCHECKPOINTS = '.'\nmodel = Net()\nmodel.load_state_dict(torch.load(os.path.join(CHECKPOINTS, 'plain.pt')))", says: /size mismatch for fc1\.weight/ },
  { name: 'nested, its path an f-string', model: net(50), load: "CHECKPOINTS = '.'\nmodel = Net()\nmodel.load_state_dict(torch.load(f'{CHECKPOINTS}/nested.pt')['state_dict'])", says: /nested\.pt: 11 tensors, all match Net/ },
  { name: 'a layer renamed', model: net(50, 'stem'), load: "model = Net()\nmodel.load_state_dict(torch.load('plain.pt'))", says: /Missing key\(s\) in state_dict: "stem\.weight", "stem\.bias"\.\n\tUnexpected key\(s\) in state_dict: "conv1\.weight", "conv1\.bias"\./ },
  { name: 'renamed, strict=False', model: net(50, 'stem'), load: "model = Net()\nmodel.load_state_dict(torch.load('plain.pt'), strict=False)", says: /all match Net.*strict=False lets 2 missing and 2 unexpected keys pass/ },
  { name: 'nested under state_dict, loaded whole', model: net(50), load: "model = Net()\nmodel.load_state_dict(torch.load('nested.pt'))", says: /holds its weights under 'state_dict' \(beside 'epoch', 'optimizer'\)/ },
  { name: 'nested, indexed through a name', model: net(50), load: "model = Net().to('cpu')\ncheckpoint = torch.load('nested.pt', map_location='cpu')\nmodel.load_state_dict(checkpoint['state_dict'])", says: /nested\.pt: 11 tensors, all match Net/ },
  { name: 'a key it does not have', model: net(50), load: "model = Net()\nmodel.load_state_dict(torch.load('plain.pt')['model'])", says: /plain\.pt has no key 'model'/ },
  { name: 'saved from DataParallel', model: net(50), load: "PATH = 'parallel.pt'\nmodel = Net()\nmodel.load_state_dict(torch.load(PATH))", says: /starts with "module\." \(it was saved from nn\.DataParallel\)/ },
  { name: 'DataParallel, the prefix stripped', model: net(50), load: "model = Net()\nsd = torch.load('parallel.pt')\nmodel.load_state_dict({k.replace('module.', ''): v for k, v in sd.items()})", says: /parallel\.pt: 11 tensors, all match Net/ },
  { name: 'tied weights', model: tied, load: "model = Tied()\nmodel.load_state_dict(torch.load('tied.pt'))", says: /tied\.pt: 2 tensors, all match Tied \(3,200 values\)/ },
  { name: 'a whole pickled model', model: net(50), load: "model = Net()\nmodel.load_state_dict(torch.load('whole.pt'))", says: /holds a whole pickled model, not a state_dict/ },
  // torch.load of a whole model gives it as it was saved: Python loads it either way; what differs is said, not raised.
  { name: 'a pickled model, the class unchanged', model: net(50), load: "model = torch.load('whole.pt')", says: /^whole\.pt holds a pickled Net: 11 tensors, all as Net in this file builds them\.\nPyTorch 2\.6 and later load with weights_only=True and refuse a pickled model/ },
  { name: 'a pickled model, fc1 widened since', model: net(60), load: "model = torch.load('whole.pt', weights_only=False)", says: /^whole\.pt holds Net as it was pickled, 3 of its tensors unlike Net as this file defines it now \(fc1\.weight: \[50, 2048\] saved, \[60, 2048\] now\): torch\.load gives the saved model/ },
];

describe('load_state_dict checked before it runs, against Python running it', function () {
  this.timeout(300_000);
  let dir: string;
  let parser: Parser;

  before(async () => {
    parser = (await loadGrammars(wasmDir)).parser('python');
    dir = mkdtempSync(join(tmpdir(), 'cnn-lab-loads-'));
    const saved = spawnSync(
      python,
      ['-c', `${imports}${net(50)}\nmodel = Net()\nsd = model.state_dict()\ntorch.save(sd, 'plain.pt')\ntorch.save({'epoch': 3, 'state_dict': sd, 'optimizer': {'lr': 0.01}}, 'nested.pt')\ntorch.save(nn.DataParallel(model).state_dict(), 'parallel.pt')\ntorch.save(model, 'whole.pt')\n${tied}\ntorch.save(Tied().state_dict(), 'tied.pt')`],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(saved.status, 0, saved.stderr);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function findings(text: string): CheckpointFinding[] {
    const tree = parser.parse(text);
    assert.ok(tree);
    try {
      return checkLoads(findStateDictLoads(Node.root(tree)), analyzeTree(tree, { defaultInput: [3, 32, 32] }), dir);
    } finally {
      tree.delete();
    }
  }

  /** Runs a script as PyTorch would, in the checkpoints' folder (the whole model needs its class in __main__, as it was saved). */
  function runs(text: string): { ok: boolean; error: string } {
    const file = join(dir, 'script.py');
    writeFileSync(file, text);
    const ran = spawnSync(python, [file], { cwd: dir, encoding: 'utf8' });
    return { ok: ran.status === 0, error: ran.stderr.trim().split('\n').slice(-3).join('\n') };
  }

  const offset = (text: string, { line, character }: SourceRange['start']) => text.split('\n').slice(0, line).reduce((n, l) => n + l.length + 1, 0) + character;

  for (const { name, model, load, says } of cases) {
    it(`${name}: says what Python finds, and its quick fix loads`, () => {
      const text = `${imports}${model}${load}\n`;
      const [finding, ...others] = findings(text);
      assert.ok(finding, 'the call is found');
      assert.deepEqual(others, []);
      assert.match(finding.hover, says);
      assert.equal(finding.range.start.line, text.split('\n').findIndex((l) => l.includes('load_state_dict') || l.startsWith('model = torch.load')));
      const python = runs(text);
      // An error exactly where Python raises.
      assert.equal(finding.diagnostic?.severity !== 'error', python.ok, `${finding.diagnostic?.message ?? 'no diagnostic'}; Python: ${python.ok ? 'loads' : python.error}`);
      if (python.ok) assert.notEqual(finding.diagnostic?.severity, 'error');
      const fix = finding.diagnostic?.fix;
      if (fix) {
        const fixed = text.slice(0, offset(text, fix.range.start)) + fix.newText + text.slice(offset(text, fix.range.end));
        assert.ok(runs(fixed).ok, `after "${fix.title}": ${runs(fixed).error}`);
        assert.equal(findings(fixed)[0]?.diagnostic, undefined, 'the fixed call is said to load');
      }
    });
  }

  it('lists every key of both sides with its status and the shapes, as Check Against Model… shows them', () => {
    const tree = parser.parse(`${imports}${net(60, 'stem')}`);
    assert.ok(tree);
    const [model] = analyzeTree(tree, { defaultInput: [3, 32, 32] });
    tree.delete();
    assert.ok(model);
    const table = stateDictTable(model, { ...readCheckpoint(join(dir, 'plain.pt')), path: 'plain.pt' });
    assert.deepEqual(table.rows.map((r) => `${r.key} ${r.status}`), [
      'stem.weight missing', 'stem.bias missing', 'bn.weight match', 'bn.bias match', 'bn.running_mean match', 'bn.running_var match', 'bn.num_batches_tracked match',
      'fc1.weight size mismatch', 'fc1.bias size mismatch', 'fc2.weight size mismatch', 'fc2.bias match', 'conv1.weight unexpected', 'conv1.bias unexpected',
    ]);
    const text = formatStateDictTable(table, 'Net in net.py', 'plain.pt');
    assert.match(text, /^Net in net\.py against plain\.pt\nload_state_dict\(strict=True\) would raise: 2 missing, 2 unexpected, 3 of another size\.\n/);
    assert.match(text, /^fc1\.weight +\[50, 2048\] +\[60, 2048\] +size mismatch$/m);
    assert.match(text, /^conv1\.weight +\[8, 3, 3, 3\] +— +unexpected$/m);
    assert.match(text, /^bn\.num_batches_tracked +\[\] +\[\]$/m);
    assert.match(text, /\tMissing key\(s\) in state_dict: "stem\.weight", "stem\.bias"\./);
  });

  it('gives a fix only where it is certain: the prefix and the nested key, each once', () => {
    const fixes = cases.flatMap((c) => findings(`${imports}${c.model}${c.load}\n`).flatMap((f) => (f.diagnostic?.fix ? [f.diagnostic.fix.title] : [])));
    assert.deepEqual(fixes, ["Load nested.pt['state_dict']", 'Strip the "module." prefix of parallel.pt\'s keys']);
  });

  it('names the model\'s line for each key that differs, and says nothing it cannot know', () => {
    const text = `${imports}${net(60)}model = Net()\nmodel.load_state_dict(torch.load('plain.pt'))\n`;
    const [finding] = findings(text);
    const fc1 = text.split('\n').findIndex((l) => l.includes('self.fc1 ='));
    assert.deepEqual(finding?.diagnostic?.related?.map((r) => [r.range.start.line, r.message]), [
      [fc1, 'fc1.weight: [60, 2048] in Net, [50, 2048] in plain.pt'],
      [fc1, 'fc1.bias: [60] in Net, [50] in plain.pt'],
      [fc1 + 1, 'fc2.weight: [10, 60] in Net, [10, 50] in plain.pt'],
    ]);
    // A file not saved yet, a model the code does not say, one the analysis cannot read whole: a hover, no diagnostic.
    const unsure = findings(`${imports}${net(50)}model = Net()\nmodel.load_state_dict(torch.load('later.pt'))\nnet = make()\nnet.load_state_dict(torch.load('plain.pt'))\n\nclass Odd(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.body = somewhere.Block()\n\nodd = Odd()\nodd.load_state_dict(torch.load('plain.pt'))\n`);
    assert.deepEqual(unsure.map((f) => f.diagnostic), [undefined, undefined, undefined]);
    assert.match(unsure[0]?.hover ?? '', /later\.pt is not in the workspace yet/);
    assert.match(unsure[1]?.hover ?? '', /does not know which model `net` is/);
    assert.match(unsure[2]?.hover ?? '', /not checked against Odd, whose state_dict the analysis does not know whole/);
  });
});
