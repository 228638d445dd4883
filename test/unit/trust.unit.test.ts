// Never silently wrong, as an invariant: every model of the real-world and semantics corpora is
// analysed again after one thing in its file is made unknowable (a literal, a name, a callee
// replaced by an undefined name). The analysis may then say less, but a model it still shows as
// complete must show exactly the numbers it showed before: what depends on the unknowable must be
// marked incomplete. Deterministic: the same mutants in the same order on every run.
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { AnalysisCache, analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports } from '../../src/core/analysis/imports';
import type { ModelReport } from '../../src/core/analysis/report';
import { loadGrammars, Node } from '../../src/core/analysis/syntax';
import { wasmDir } from './support/analysis';

const repo = resolve(__dirname, '../..');
const corpora = ['test/fixtures/realworld', 'test/fixtures/semantics'].map((d) => resolve(repo, d));
const unknowable = '__cnnlab_unknowable__';
/** Mutants in all: at least 1,000, spread evenly over the files' model code. */
const wanted = 1_200;

/** What a report claims to know: its output, totals (trainable too) and every layer's name, type, shape and parameters. */
function claims(report: ModelReport): string {
  const layers = report.layers.map((l) => `${l.name}:${l.type}:${JSON.stringify(l.out)}:${l.params}`).sort();
  return JSON.stringify({ output: report.output, totalParams: report.totalParams, trainableParams: report.trainableParams, layers });
}

/** Places where a value is read: literals, names used as operands or arguments, and callees (the call stays, its function becomes unknowable). */
function mutationSites(root: Node): Node[] {
  const sites: Node[] = [];
  const readers = new Set(['argument_list', 'binary_operator', 'comparison_operator', 'list', 'tuple', 'return_statement', 'subscript', 'boolean_operator', 'not_operator', 'unary_operator', 'conditional_expression', 'parenthesized_expression']);
  const visit = (node: Node, inModel: boolean) => {
    const type = node.type;
    const inside = inModel || type === 'class_definition' || type === 'function_definition';
    if (inside) {
      const parent = node.parent;
      const literal = type === 'integer' || type === 'float' || type === 'true' || type === 'false' || (type === 'string' && parent?.type !== 'expression_statement');
      const readName = type === 'identifier' && parent !== null && (readers.has(parent.type) || (parent.type === 'keyword_argument' && parent.childForFieldName('value')?.startIndex === node.startIndex) || (parent.type === 'assignment' && parent.childForFieldName('right')?.startIndex === node.startIndex));
      const callee = parent?.type === 'call' && parent.childForFieldName('function')?.startIndex === node.startIndex && node.endIndex === parent.childForFieldName('function')?.endIndex && type !== 'call';
      if (literal || readName || callee) sites.push(node);
    }
    for (const child of node.namedChildren) if (child && child.type !== 'string') visit(child, inside);
    for (const child of node.namedChildren) if (child?.type === 'string' && inside && child.parent?.type !== 'expression_statement') sites.push(child);
  };
  visit(root, false);
  return [...new Map(sites.map((s) => [`${s.startIndex}:${s.endIndex}`, s])).values()].sort((a, b) => a.startIndex - b.startIndex);
}

describe('never silently wrong: models with one thing made unknowable', function () {
  this.timeout(600_000);

  it(`shows a model as complete only with the numbers it had, over ≥ 1,000 mutants of the corpora, and its cache answers as a fresh analysis`, async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const analyse = (file: string, text: string, cache?: AnalysisCache): ModelReport[] => {
      const tree = parser.parse(text);
      if (!tree) throw new Error(`no tree for ${file}`);
      const imports = new FileImports(parser, file);
      try {
        return analyzeTree(tree, { defaultInput: [3, 32, 32], imports }, cache);
      } finally {
        imports.dispose();
        tree.delete();
      }
    };
    const files = corpora.flatMap((dir) => readdirSync(dir).filter((n) => n.endsWith('.py')).sort().map((n) => resolve(dir, n)));
    const plans = files.map((file) => {
      const text = readFileSync(file, 'utf8');
      const tree = parser.parse(text);
      if (!tree) throw new Error(`no tree for ${file}`);
      const sites = mutationSites(Node.root(tree)).map((n) => ({ start: n.startIndex, end: n.endIndex, line: n.startPosition.row + 1, text: n.text }));
      tree.delete();
      return { file, text, sites };
    });
    const total = plans.reduce((n, p) => n + p.sites.length, 0);
    const violations: string[] = [];
    let mutants = 0;
    let madeIncomplete = 0;
    for (const { file, text, sites } of plans) {
      const before = new Map(analyse(file, text).filter((r) => r.complete).map((r) => [`${r.kind}:${r.name}`, claims(r)]));
      // Each file's share of the mutants, evenly spaced over its sites.
      const share = Math.max(1, Math.round((wanted * sites.length) / total));
      const step = sites.length / Math.min(share, sites.length);
      for (let i = 0; i < sites.length; i += step) {
        const site = sites[Math.floor(i)];
        if (!site) continue;
        // Offsets are UTF-8 bytes in the tree; the corpora's model code is ASCII where it matters, and a mismatch is skipped.
        if (text.slice(site.start, site.end) !== site.text) continue;
        const mutant = text.slice(0, site.start) + unknowable + text.slice(site.end);
        mutants++;
        for (const report of analyse(file, mutant)) {
          const known = before.get(`${report.kind}:${report.name}`);
          if (known === undefined) continue;
          if (!report.complete) madeIncomplete++;
          else if (claims(report) !== known) violations.push(`${basename(file)} line ${site.line}, \`${site.text.slice(0, 40)}\` made unknowable: ${report.name} still claims to be complete, with other numbers`);
        }
      }
    }
    // The cache an editor keeps (reports reused for the models an edit cannot change) answers as a fresh analysis.
    const cacheMismatches: string[] = [];
    for (const { file, text, sites } of plans) {
      const cache = new AnalysisCache();
      analyse(file, text, cache);
      for (const site of sites.filter((_, i) => i % Math.max(1, Math.floor(sites.length / 10)) === 0)) {
        const mutant = text.slice(0, site.start) + unknowable + text.slice(site.end);
        if (JSON.stringify(analyse(file, mutant, cache)) !== JSON.stringify(analyse(file, mutant))) cacheMismatches.push(`${basename(file)} line ${site.line}`);
        if (JSON.stringify(analyse(file, text, cache)) !== JSON.stringify(analyse(file, text))) cacheMismatches.push(`${basename(file)} back from line ${site.line}`);
      }
    }
    assert.deepEqual(cacheMismatches, [], 'a cached analysis differs from a fresh one');
    process.stdout.write(`      ${mutants} mutants of ${files.length} files (${total} sites); ${madeIncomplete} model reports became incomplete, ${violations.length} claimed other numbers as complete\n`);
    assert.ok(mutants >= 1_000, `only ${mutants} mutants`);
    assert.ok(madeIncomplete > 0);
    assert.deepEqual(violations.slice(0, 30), []);
  });
});

/** The first model of a file's text, as the editor analyses it. */
async function analyseText(text: string): Promise<ModelReport> {
  const parser = (await loadGrammars(wasmDir)).parser('python');
  const tree = parser.parse(text);
  if (!tree) throw new Error('no tree');
  try {
    const [report] = analyzeTree(tree, { defaultInput: [1, 28, 28] });
    if (!report) throw new Error('no model');
    return report;
  } finally {
    tree.delete();
  }
}

describe('a condition not known while the model is built', () => {
  const source = (branch: string) => `import os
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        if os.environ.get("WIDE"):
${branch}
        else:
            self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))
`;

  it('is followed both ways, and where they build the same model its numbers are known', async () => {
    const report = await analyseText(source('            self.fc = nn.Linear(784, 10)'));
    assert.equal(report.complete, true, JSON.stringify(report.incomplete));
    assert.equal(report.totalParams, 7_850);
    assert.deepEqual(report.output, [1, 10]);
  });

  it('makes the model incomplete, naming the condition, its line and both counts, where the ways differ', async () => {
    const report = await analyseText(source('            self.fc = nn.Sequential(nn.Linear(784, 100), nn.Linear(100, 10))'));
    assert.equal(report.complete, false);
    assert.equal(report.paramsKnown, false);
    const reason = report.incomplete?.find((i) => i.range.start.line === 6);
    assert.ok(reason, JSON.stringify(report.incomplete));
    assert.match(reason.reason, /os\.environ\.get\("WIDE"\).*not known.*79,510 or 7,850 parameters/);
  });

  it('at module level, joins both ways, a global set in one of them too: what the model does not read, or reads the same either way, leaves it known', async () => {
    const moduleLevel = (wide: string) => `import os
import torch.nn as nn

WIDTH = 10
VERBOSE = 0


def configure():
    global WIDTH
    if os.environ.get("WIDE"):
        WIDTH = ${wide}


def settings():
    global VERBOSE
    for name in ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"]:
        if os.environ.get(name):
            VERBOSE += 1


configure()
settings()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, WIDTH)

    def forward(self, x):
        return self.fc(x.flatten(1))
`;
    const same = await analyseText(moduleLevel('10'));
    assert.deepEqual([same.complete, same.totalParams], [true, 7_850], JSON.stringify(same.incomplete));
    // WIDE set: 78,500 + 100 parameters; not: 7,850. Neither may be shown as known.
    const differs = await analyseText(moduleLevel('100'));
    assert.equal(differs.complete, false);
    assert.ok(differs.incomplete?.some((i) => /WIDE/.test(i.reason)), JSON.stringify(differs.incomplete));
  });

  it('does not take a way that raises for the model Python builds', async () => {
    const report = await analyseText(source('            raise ValueError("no wide model here")'));
    assert.equal(report.complete, true, JSON.stringify(report.incomplete));
    assert.equal(report.totalParams, 7_850);
  });
});

describe('a shallow copy of a layer', () => {
  it("makes the model incomplete at the copy: it shares the layer's parameters, which PyTorch counts once if both are in the model", async () => {
    const report = await analyseText(`import copy
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = copy.copy(self.a)

    def forward(self, x):
        return self.b(self.a(x))
`);
    assert.equal(report.complete, false);
    const reason = report.incomplete?.find((i) => i.range.start.line === 7);
    assert.ok(reason, JSON.stringify(report.incomplete));
    assert.match(reason.reason, /copy\.copy\(self\.a\)` shares the parameters of the Linear it copies/);
  });
});

describe('a class whose base the analysis cannot read', () => {
  const source = (base: string) => `import enum
import torch.nn as nn
from torch.utils.data import Dataset
from typing import Generic, NamedTuple, TypeVar
from fancy_layers import Base

T = TypeVar("T")


class Helper(${base}):
    def __init__(self, width=4):
        super().__init__()
        self.width = width


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.helper = Helper()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
`;

  it('makes a model that builds one incomplete at the call: it may be a layer the model holds', async () => {
    for (const base of ['Base', 'fancy_layers.Base']) {
      const report = await analyseText(source(base));
      assert.equal(report.complete, false, base);
      const reason = report.incomplete?.find((i) => i.range.start.line === 18);
      assert.match(reason?.reason ?? JSON.stringify(report.incomplete), /Helper derives from `Base`, which the analysis cannot read|Helper derives from `fancy_layers\.Base`/);
    }
  });

  it("leaves it complete where the base is Python's, the standard library's or torch's and no module", async () => {
    for (const base of ['object', 'Dataset', 'enum.Enum', 'Generic[T]', 'ValueError', 'dict']) {
      const report = await analyseText(source(base));
      assert.deepEqual([report.complete, report.totalParams], [true, 10], `${base}: ${JSON.stringify(report.incomplete)}`);
    }
  });
});

describe('a number divided by zero', () => {
  it('raises ZeroDivisionError as Python does, named at its line, instead of a size of Infinity', async () => {
    const report = await analyseText(`import torch.nn as nn

class Net(nn.Module):
    def __init__(self, groups=0):
        super().__init__()
        width = 64 // groups
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        return self.fc(x)
`);
    assert.equal(report.complete, false);
    assert.ok(report.incomplete?.some((i) => i.range.start.line === 5 && i.reason === 'ZeroDivisionError is raised'), JSON.stringify(report.incomplete));
  });
});

describe('a submodule named with a dot', () => {
  it('raises KeyError as nn.Module.add_module does, for a ModuleDict key and add_module alike', async () => {
    for (const [line, registration] of [
      [5, "self.heads = nn.ModuleDict({'scale_0.5': nn.Linear(4, 10)})"],
      [5, "self.add_module('fc.1', nn.Linear(4, 10))"],
    ] as const) {
      const report = await analyseText(`import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        ${registration}

    def forward(self, x):
        return x
`);
      assert.equal(report.complete, false, registration);
      assert.ok(report.incomplete?.some((i) => i.range.start.line === line && i.reason === 'KeyError is raised'), JSON.stringify(report.incomplete));
    }
  });
});

describe('a class each branch of a module-level if defines', () => {
  const source = (condition: string) => `import torch
import torch.nn as nn

WIDE = True
if ${condition}:
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 80)

        def forward(self, x):
            return self.fc(x)
else:
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.fc(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x)
`;

  it('is the one of the branch Python takes where the condition is known', async () => {
    const report = await analyseText(source('WIDE'));
    assert.deepEqual([report.name, report.complete, report.totalParams, report.output], ['Net', true, 720, [1, 80]]);
  });

  it('is not known where the condition is not, and the model that builds it says so', async () => {
    const report = await analyseText(source('torch.cuda.is_available()'));
    assert.equal(report.name, 'Net');
    assert.equal(report.complete, false);
    assert.ok(report.incomplete?.some((i) => i.range.start.line === 25 && i.reason.includes('torch.cuda.is_available()')), JSON.stringify(report.incomplete));
  });
});

describe('a model package whose source is not found', () => {
  it('shows its models as not read, with what to install, and nothing else of the package as a model', async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const tree = parser.parse(`import argparse
import torch.nn as nn
from torchvision import models
from torchvision.models import ResNet
from torchvision.models.resnet import BasicBlock

parser = argparse.ArgumentParser()
model = models.vgg16(pretrained=True)
model.classifier[6] = nn.Linear(4096, 5)


def small(num_classes=10):
    return ResNet(BasicBlock, [1, 1, 1, 1], num_classes=num_classes)
`);
    if (!tree) throw new Error('no tree');
    try {
      // No imports are read: torchvision's source is not found, as where the selected interpreter lacks it.
      const reports = analyzeTree(tree, { defaultInput: [3, 32, 32] });
      assert.deepEqual(reports.map((r) => [r.name, r.complete, r.output]), [['small', false, null], ['model', false, null]]);
      for (const report of reports) assert.ok(report.incomplete?.some((i) => i.reason.includes("torchvision's source was not found (install torchvision in the selected Python environment")), JSON.stringify(report.incomplete));
    } finally {
      tree.delete();
    }
  });
});
