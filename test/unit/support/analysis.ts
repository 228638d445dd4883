import { dirname } from 'node:path';
import { analyzeTree } from '../../../src/core/analysis/analyze';
import type { ModelReport } from '../../../src/core/analysis/report';
import { loadGrammars } from '../../../src/core/analysis/syntax';

/** The grammars as the package ships them (the build copies the same files into dist/parsers). */
export const wasmDir = dirname(require.resolve('@vscode/tree-sitter-wasm/wasm/tree-sitter.wasm'));

export async function analyzePythonSource(source: string, defaultInput = [3, 32, 32]): Promise<ModelReport[]> {
  const parser = (await loadGrammars(wasmDir)).parser('python');
  const tree = parser.parse(source);
  if (!tree) throw new Error('no tree');
  try {
    return analyzeTree(tree, { defaultInput });
  } finally {
    tree.delete();
  }
}
