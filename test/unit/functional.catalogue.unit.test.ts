// The analysis's table of torch functions and Tensor methods against the installed PyTorch:
// support/functional_catalogue.py runs every name the analysis says keeps its argument's shape, in
// each spelling and with each further argument PyTorch accepts, and a set of cases for each rule that
// takes arguments (view, cat, pad, max, split …), and records the output shape or PyTorch's error.
// Each case becomes a model whose forward returns that expression: a model the analysis shows as
// complete must have PyTorch's output, and every rule must be right in at least one of its cases.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { broadcasting, shapePreserving } from '../../src/core/analysis/python/tensors';
import { analyzePythonSource } from './support/analysis';

interface Case {
  name: string;
  expression: string;
  out?: number[];
  error?: string;
}

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const generator = resolve(__dirname, 'support/functional_catalogue.py');
const elementwise = [...shapePreserving, ...broadcasting];
/** Names in the table that cannot be checked here, and why. */
const unchecked: Record<string, string> = {
  cuda: 'moves a tensor to a GPU, which the test machine may not have',
  astype: "NumPy arrays' method (the course builds filters with NumPy), not PyTorch's",
  rms_norm: 'in PyTorch from 2.4 on',
};

describe('torch functions and Tensor methods against the installed PyTorch', function () {
  this.timeout(300_000);
  const catalogue = JSON.parse(
    execFileSync(python, [generator], { input: JSON.stringify({ elementwise }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] }),
  ) as { torch: string; absent: string[]; cases: Case[] };
  const { cases } = catalogue;
  let answers: { complete: boolean; output: unknown; diagnostics: string[] }[] = [];
  before(async () => (answers = await analysed()));

  /** What the analysis says of each case: its output when it claims to know it, else why not. */
  async function analysed(): Promise<{ complete: boolean; output: unknown; diagnostics: string[] }[]> {
    const source = [
      'import torch',
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      ...cases.map((c, i) => `\n\nclass Case${i}(nn.Module):\n    def forward(self, x):\n        return ${c.expression}`),
    ].join('\n');
    const reports = new Map((await analyzePythonSource(source)).map((r) => [r.name, r]));
    return cases.map((_, i) => {
      const report = reports.get(`Case${i}`);
      assert.ok(report, `no report for case ${i}`);
      return { complete: report.complete === true, output: report.output, diagnostics: report.diagnostics.map((d) => d.message) };
    });
  }

  it(`answers as PyTorch ${catalogue.torch} does wherever it says it knows, or says it does not`, async () => {
    const wrong = cases.flatMap((c, i) => {
      const answer = answers[i] as (typeof answers)[number];
      if (c.out) return answer.complete && JSON.stringify(answer.output) !== JSON.stringify(c.out) ? [`${c.expression}: ${JSON.stringify(answer.output)}, PyTorch ${JSON.stringify(c.out)}`] : [];
      // What PyTorch refuses is flagged, or at least not shown as known.
      return answer.complete && answer.diagnostics.length === 0 ? [`${c.expression}: ${JSON.stringify(answer.output)}, PyTorch raises ${c.error}`] : [];
    });
    assert.deepEqual(wrong, [], `${wrong.length} of ${cases.length} cases shown as known and not what PyTorch gives`);
  });

  it('is right, known, in at least one case of every name in its table, and of every rule', async () => {
    const names = new Set([...elementwise, ...cases.map((c) => c.name)]);
    const known = new Set(cases.filter((c, i) => c.out && answers[i]?.complete).map((c) => c.name));
    const never = [...names].filter((name) => !known.has(name) && !(name in unchecked));
    assert.deepEqual(never, [], 'names PyTorch accepts in no spelling tried, or the analysis never knows');
    // A name listed as unchecked that this PyTorch has and the test checked is listed no longer.
    assert.deepEqual(Object.keys(unchecked).filter((name) => known.has(name)), []);
    assert.deepEqual(catalogue.absent.filter((name) => !(name in unchecked)), [], 'names in the table this PyTorch does not have');
    const refusals = cases.filter((c) => c.error);
    assert.ok(refusals.every((c) => answers[cases.indexOf(c)]?.diagnostics.length), 'every case PyTorch refuses is flagged');
  });
});
