// Random edits and truncations of real model files: the analysis must always answer, never throw,
// and an incrementally re-parsed tree must equal a fresh parse. Seeded, so a failure reproduces.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import type { Node } from '@vscode/tree-sitter-wasm';
import { DocumentTree, loadGrammars, type TextChange } from '../../src/core/analysis/syntax';
import { random } from '../../src/core/random';
import { wasmDir } from './support/analysis';

const repo = resolve(__dirname, '../..');
// The real-world corpus and the semantics fixtures exercise inheritance, imports' absence, factories and the rest.
const sources = ['test/fixtures/models', 'examples', 'test/fixtures/realworld', 'test/fixtures/semantics'].flatMap((dir) =>
  readdirSync(join(repo, dir))
    .filter((f) => f.endsWith('.py') && f !== 'ground_truth.py')
    .map((f) => readFileSync(join(repo, dir, f), 'utf8')),
);

const fragments = ['(', ')', ',', ':', '-1', '0', '*', ' * 4', '\n', '\n    ', 'self.', 'x', 'nn.Conv2d(', 'nn.Linear(', 'nn.Sequential(', 'for i in range(', 'return ', '"', '#', '[', ']', 'def ', 'class ', 'lambda', '**', 'é', '\t'];

function mutate(text: string, next: () => number): TextChange {
  const at = Math.floor(next() * (text.length + 1));
  const choice = next();
  if (choice < 0.2) return { rangeOffset: at, rangeLength: text.length - at, text: '' }; // truncate
  if (choice < 0.5) return { rangeOffset: at, rangeLength: Math.min(Math.floor(next() * 40), text.length - at), text: '' };
  const fragment = fragments[Math.floor(next() * fragments.length)] ?? '';
  return { rangeOffset: at, rangeLength: 0, text: fragment.repeat(1 + Math.floor(next() * 3)) };
}

function apply(text: string, change: TextChange): string {
  return text.slice(0, change.rangeOffset) + change.text + text.slice(change.rangeOffset + change.rangeLength);
}

/**
 * Every node of a tree, with its type, range and whether it is missing or an error, walked with a
 * cursor in JavaScript: tree-sitter's own toString() recurses inside WebAssembly, whose stack a
 * deep tree of a mangled file overflows, leaving the runtime unusable for every later parse.
 */
function treeListing(root: Node): string {
  const cursor = root.walk();
  const lines: string[] = [];
  let depth = 0;
  for (;;) {
    const node = cursor.currentNode;
    lines.push(`${depth} ${node.type} ${node.startIndex}-${node.endIndex}${node.isMissing ? ' missing' : ''}${node.hasError ? ' error' : ''}`);
    if (cursor.gotoFirstChild()) depth++;
    else {
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          cursor.delete();
          return lines.join('\n');
        }
        depth--;
      }
    }
  }
}

describe('analysis under random edits', () => {
  it(`answers for 1,000 mutated files made from the ${sources.length} model files, without throwing`, async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const next = random(20261124);
    let models = 0;
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      let text = sources[i % sources.length] ?? '';
      for (let edits = 1 + Math.floor(next() * 4); edits > 0; edits--) text = apply(text, mutate(text, next));
      const started = performance.now();
      const tree = parser.parse(text);
      assert.ok(tree);
      // The budget is counted in steps, not time, so that it ends the same on every machine.
      const reports = analyzeTree(tree, { defaultInput: [3, 32, 32], stepBudget: 50_000 });
      times.push(performance.now() - started);
      models += reports.length;
      for (const report of reports) assert.ok(Array.isArray(report.layers) && Array.isArray(report.diagnostics));
      tree.delete();
    }
    assert.ok(models > 500, `most mutants still hold a model (${models})`);
    times.sort((a, b) => a - b);
    process.stdout.write(`      1,000 mutated files: ${models} models analysed, 0 throws; parse + analysis median ${times[500]?.toFixed(2)} ms, slowest ${times[999]?.toFixed(1)} ms\n`);
  });

  it('re-parses incrementally to the same tree as a fresh parse, through 300 edits', async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const next = random(7);
    const document = new DocumentTree(parser);
    let text = sources[0] ?? '';
    document.update(text);
    for (let i = 0; i < 300; i++) {
      const changes = [mutate(text, next)];
      if (next() < 0.3) changes.push(mutate(apply(text, changes[0] as TextChange), next));
      const edited = changes.reduce(apply, text);
      const incremental = treeListing(document.update(edited, changes).rootNode);
      const fresh = parser.parse(edited);
      assert.ok(fresh);
      assert.equal(incremental, treeListing(fresh.rootNode), `after edit ${i}`);
      fresh?.delete();
      text = edited;
      if (text.length < 200) text = sources[i % sources.length] ?? '';
      if (text !== edited) document.update(text);
    }
    document.dispose();
  });

  const analyzeOne = async (source: string) => {
    const tree = (await loadGrammars(wasmDir)).parser('python').parse(source);
    assert.ok(tree);
    const [report] = analyzeTree(tree, { defaultInput: [3, 32, 32] });
    tree.delete();
    assert.ok(report);
    return report;
  };
  const header = 'import torch.nn as nn\nclass Deep(nn.Module):\n    def __init__(self):\n        super().__init__()\n';

  it('follows a helper that recurses for ever only to its depth limit, and still analyses forward', async () => {
    const report = await analyzeOne(`${header}        self.f = self.grow(0)\n    def grow(self, n):\n        return self.grow(n + 1)\n    def forward(self, x):\n        return x\n`);
    assert.deepEqual(report.output, [1, 3, 32, 32]);
  });

  it('stops building a model of 10^8 layers at its step budget, and says so', async () => {
    const report = await analyzeOne(`${header}        self.f = nn.Sequential(*[nn.Linear(2, 2) for a in range(9999) for b in range(9999)])\n    def forward(self, x):\n        return self.f(x)\n`);
    assert.equal(report.output, null);
    assert.equal(report.outputNote, 'the model is too large to follow (1,000,000 steps)');
    assert.equal(report.complete, false);
    assert.match(report.incomplete?.[0]?.reason ?? '', /too large to follow/);
  });

  it("does not build, for one model, another that a module-level print() is given: each keeps its own budget", async () => {
    const huge = `${header}        self.f = nn.Sequential(*[nn.Linear(2, 2) for a in range(9999) for b in range(9999)])\n    def forward(self, x):\n        return self.f(x)\n`;
    const small = 'class Small(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 2)\n    def forward(self, x):\n        return self.fc(x)\n';
    const analyze = async (printed: string) => {
      const tree = (await loadGrammars(wasmDir)).parser('python').parse(`${huge}deep = Deep()\n${printed}\n${small}`);
      assert.ok(tree);
      const reports = analyzeTree(tree, { defaultInput: [3, 32, 32], stepBudget: 20_000 });
      tree.delete();
      return reports.find((r) => r.name === 'Small');
    };
    for (const printed of ['print(deep)', 'print("built:", deep.f, sep="\\n")', 'print(f"{deep!r}")']) {
      const report = await analyze(printed);
      assert.equal(report?.complete, true, printed);
      assert.equal(report?.totalParams, 10, printed);
    }
    // A print whose arguments call something runs, as any call at module level may change what a model reads.
    const called = await analyze('print(len(deep.f))');
    assert.equal(called?.complete, false);
  });
});
