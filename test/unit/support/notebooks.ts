import type { NotebookCell } from '../../../src/core/analysis/notebook';

export const code = (source: string): NotebookCell => ({ kind: 'code', source });
export const markdown = (source: string): NotebookCell => ({ kind: 'markdown', source });

/** `count` cells as a long lesson has them: markdown, hyper-parameters, model classes (one per 5 cells), instances, training loops. */
export function lessonCells(count: number): NotebookCell[] {
  const cells: NotebookCell[] = [code('%matplotlib inline\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F')];
  for (let i = 0; cells.length < count; i++) {
    cells.push(markdown(`## Model ${i}\n\nA convolution, a pool and a classifier.`));
    cells.push(code(`channels_${i} = ${8 + i}\nbatch_size = 20`));
    cells.push(code(`class Net${i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv1 = nn.Conv2d(3, channels_${i}, 3, padding=1)\n        self.pool = nn.MaxPool2d(2, 2)\n        self.fc1 = nn.Linear(channels_${i} * 16 * 16, 10)\n\n    def forward(self, x):\n        x = self.pool(F.relu(self.conv1(x)))\n        return self.fc1(x.flatten(1))`));
    cells.push(code(`model = Net${i}()\nprint(model)`));
    cells.push(code(`%%time\nfor epoch in range(3):\n    for data, target in train_loader:\n        loss = criterion(model(data), target)\n        loss.backward()`));
  }
  return cells.slice(0, count);
}
