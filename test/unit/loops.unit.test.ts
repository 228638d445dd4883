// Loops the analysis runs at their last item (src/core/analysis/python/loops.ts): one that only writes
// a tensor's values takes the steps of one iteration, and one that looks like it but writes a list
// still takes every iteration's. What each leaves is checked against PyTorch by the corpus test
// (test/fixtures/semantics/tensor_writes.py).
import assert from 'node:assert/strict';
import { analyzePythonSource } from './support/analysis';

/** A model whose constructor fills `rows` rows of a `holder` in a loop, then sizes a layer by what the loop left. */
function filling(holder: string, write: string): string {
  return `import torch
import torch.nn as nn


class Filled(nn.Module):
    def __init__(self, rows=5000):
        super().__init__()
        self.held = ${holder}
        for i in range(rows):
            picked = torch.randperm(4)[:2]
            ${write}
        self.fc = nn.Linear(4, 2 + i % 7)

    def forward(self, x):
        return self.fc(x)
`;
}

/** Enough steps for a few iterations of the loops above, not for 5,000. */
const stepBudget = 3_000;

describe('loops run at their last item', () => {
  it('runs a loop that only writes a tensor row by row once, and leaves its names as its last iteration does', async () => {
    const [report] = await analyzePythonSource(filling('torch.zeros(5000, 4)', 'self.held[i, picked] = 1'), [3, 32, 32], undefined, { stepBudget });
    assert.equal(report?.complete, true, JSON.stringify(report?.incomplete));
    // i ends at 4,999 (4,999 % 7 = 1): Linear(4, 3).
    assert.deepEqual(report?.output, [1, 3]);
    assert.equal(report?.totalParams, 4 * 3 + 3);
  });

  it('runs every iteration of the same loop writing a list, which a later layer may be sized by', async () => {
    const [report] = await analyzePythonSource(filling('[0] * 5000', 'self.held[i] = picked'), [3, 32, 32], undefined, { stepBudget });
    assert.equal(report?.complete, false);
    assert.match(JSON.stringify(report?.incomplete), /step/i);
  });
});
