// The shape engine against torch.nn itself: support/torchnn_catalogue.py builds every covered
// class over a grid of constructor arguments with the installed PyTorch, runs it and records the
// output shapes (nested for tuples) and parameter count; here each case goes through buildLayer,
// computeOutputShape and paramCount. Every nn.Module class in torch.nn must be covered or excluded
// below with a reason, so a PyTorch release that adds one fails until it is classified.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { computeOutputShape, type LayerSpec, type OutputTree, paramCount } from '../../src/core/analysis/layers';
import type { Shape } from '../../src/core/analysis/shape';
import { type ArgValue, buildLayer, ModuleArg } from '../../src/core/analysis/torchLayers';

type JsonArg = number | string | boolean | null | JsonArg[] | { module: string; args: JsonArg[]; kwargs: Record<string, JsonArg> };

interface Case {
  type: string;
  args: JsonArg[];
  kwargs: Record<string, JsonArg>;
  inputs: Shape[];
  out?: OutputTree;
  /** Why PyTorch could not run the forward here; the layer then must keep the input's shape. */
  noForward?: string;
  params: number;
}

interface Catalogue {
  torch: string;
  classes: string[];
  cases: Case[];
  refused: { type: string; args: JsonArg[]; kwargs: Record<string, JsonArg>; error: string }[];
}

/** torch.nn's Module classes whose output does not follow from the input's shape and the constructor. */
const excluded: Record<string, string> = {
  Module: 'the base class of every layer',
  Container: 'a deprecated base class for containers',
  Sequential: 'a container: the evaluator follows its children',
  ModuleList: 'a container: the evaluator follows its children',
  ModuleDict: 'a container: the evaluator follows its children',
  ParameterList: 'holds parameters and has no forward',
  ParameterDict: 'holds parameters and has no forward',
  DataParallel: "a wrapper that places its module's work on devices",
  RNNBase: 'the abstract base of RNN, LSTM and GRU',
  RNNCellBase: 'the abstract base of the recurrent cells',
};

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const generator = resolve(__dirname, 'support/torchnn_catalogue.py');
const catalogue = JSON.parse(execFileSync(python, [generator], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] })) as Catalogue;

function toArg(value: JsonArg): ArgValue {
  if (Array.isArray(value)) return value.map(toArg);
  if (value !== null && typeof value === 'object') return new ModuleArg(value.module, build(value.module, value.args, value.kwargs));
  return value;
}

function build(type: string, args: JsonArg[], kwargs: Record<string, JsonArg>): LayerSpec {
  return buildLayer(type, args.map(toArg), new Map(Object.entries(kwargs).map(([name, value]) => [name, toArg(value)])));
}

function call(c: Case): string {
  const args = [...c.args.map(formatArg), ...Object.entries(c.kwargs).map(([name, value]) => `${name}=${formatArg(value)}`)];
  return `${c.type}(${args.join(', ')})`;
}

function formatArg(value: JsonArg): string {
  if (Array.isArray(value)) return `(${value.map(formatArg).join(', ')})`;
  if (value !== null && typeof value === 'object') return call({ type: value.module, args: value.args, kwargs: value.kwargs, inputs: [], params: 0 });
  return value === null ? 'None' : typeof value === 'boolean' ? (value ? 'True' : 'False') : JSON.stringify(value);
}

function formatTree(tree: OutputTree | undefined): string {
  if (tree === null || tree === undefined) return 'None';
  if (tree.length === 0) return 'a scalar';
  return tree.some(Array.isArray) || tree.every((d) => d === null) ? `(${(tree as OutputTree[]).map(formatTree).join(', ')})` : `[${tree.join('×')}]`;
}

const byClass = new Map<string, Case[]>();
for (const c of catalogue.cases) byClass.set(c.type, [...(byClass.get(c.type) ?? []), c]);

describe(`torch.nn's layers against PyTorch ${catalogue.torch}`, () => {
  after(() => process.stdout.write(`      ${byClass.size} classes covered with ${catalogue.cases.length} cases, ${Object.keys(excluded).length} excluded\n`));

  it('classifies every nn.Module class in torch.nn as covered or excluded with a reason', () => {
    const unclassified = catalogue.classes.filter((name) => !byClass.has(name) && !(name in excluded));
    assert.deepEqual(unclassified, [], 'classes with neither cases nor a reason to be left out');
    assert.deepEqual(
      Object.keys(excluded).filter((name) => byClass.has(name)),
      [],
      'excluded classes with cases',
    );
  });

  it('runs every case of the grid in PyTorch', () => {
    assert.deepEqual(catalogue.refused, []);
  });

  for (const [type, cases] of byClass) {
    describe(type, () => {
      for (const c of cases) {
        const [input = [], ...extraInputs] = c.inputs;
        const expected = c.noForward ? `its input's shape (${c.noForward})` : formatTree(c.out);
        it(`${call(c)} on ${c.inputs.map((s) => formatTree(s)).join(', ')} gives ${expected} with ${c.params} parameters`, () => {
          const spec = build(c.type, c.args, c.kwargs);
          const result = computeOutputShape(spec, c.type, input, extraInputs);
          assert.equal(result.error, undefined);
          assert.deepEqual(c.noForward ? result.shape : (result.outputs ?? result.shape), c.noForward ? input : c.out);
          assert.equal(paramCount(result.materialized ?? spec), c.params);
        });
      }
    });
  }
});

describe('torch.nn layers with partly known inputs', () => {
  const layer = (type: string, ...args: ArgValue[]) => buildLayer(type, args, new Map());

  it('keeps the channels of a conv whose height is unknown', () => {
    assert.deepEqual(computeOutputShape(layer('Conv2d', 3, 8, 3), 'Conv2d', [null, 3, null, 32]).shape, [null, 8, null, 30]);
  });

  it('counts no parameters for a lazy layer until its input is known, then counts them', () => {
    const lazy = layer('LazyConv2d', 8, 3);
    const unknown = computeOutputShape(lazy, 'LazyConv2d', [2, null, 32, 32]);
    assert.deepEqual(unknown.shape, [2, 8, 30, 30]);
    assert.equal(unknown.materialized, undefined);
    assert.equal(paramCount(lazy), 0);
    const known = computeOutputShape(lazy, 'LazyConv2d', [2, 3, 32, 32]);
    assert.equal(known.materialized && paramCount(known.materialized), 8 * 3 * 9 + 8);
  });

  it("gives an LSTM's state shapes when only the sequence length is unknown", () => {
    const result = computeOutputShape(buildLayer('LSTM', [5, 7], new Map([['batch_first', true]])), 'LSTM', [4, null, 5]);
    assert.deepEqual(result.outputs, [
      [4, null, 7],
      [
        [1, 4, 7],
        [1, 4, 7],
      ],
    ]);
  });

  it('names the layer and the argument when an argument is wrong', () => {
    assert.throws(() => layer('MultiheadAttention', 10, 3), /^Error: MultiheadAttention: embed_dim \(10\) must be divisible by num_heads \(3\)$/);
    assert.throws(() => buildLayer('FractionalMaxPool2d', [2], new Map()), /FractionalMaxPool2d: give output_size or output_ratio/);
  });
});
