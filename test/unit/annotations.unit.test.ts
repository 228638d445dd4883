import * as assert from 'node:assert/strict';
import { parseInputAnnotation } from '../../src/core/analysis/annotations';
import { analyzePythonSource } from './support/analysis';

describe('the input annotation', () => {
  const cases: [string, number[] | null][] = [
    ['# cnnlab: input 3x32x32', [3, 32, 32]],
    ['#cnnlab: input 1×28×28', [1, 28, 28]],
    ['# cnnlab: input 3, 224, 224', [3, 224, 224]],
    ['// cnnlab: input 28x28x1', [28, 28, 1]],
    ['# CNNLab: Input 784', [784]],
    ['# cnnlab: input 0x28x28', null],
    ['# cnnlab: input 3xAx4', null],
    ['# cnnlab: input', null],
    ['# input 3x32x32', null],
  ];
  for (const [comment, dims] of cases) it(`reads "${comment}" as ${JSON.stringify(dims)}`, () => assert.deepEqual(parseInputAnnotation(comment), dims));

  it('belongs to the model it sits in, or to the one right below it', async () => {
    const source = [
      'import torch.nn as nn',
      '# cnnlab: input 1x28x28',
      'class A(nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.c = nn.Conv2d(1, 4, 3)',
      '    def forward(self, x):',
      '        return self.c(x)',
      '',
      '',
      '',
      '',
      'class B(nn.Module):',
      '    # cnnlab: input 1x10x10',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.c = nn.Conv2d(1, 4, 3)',
      '    def forward(self, x):',
      '        return self.c(x)',
    ].join('\n');
    const reports = await analyzePythonSource(source);
    assert.deepEqual(reports.map((r) => [r.name, r.input, r.inputSource]), [['A', [1, 1, 28, 28], 'annotation'], ['B', [1, 1, 10, 10], 'annotation']]);
  });
});
