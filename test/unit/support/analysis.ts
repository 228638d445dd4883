import { dirname } from 'node:path';
import { analyzeTree, type AnalysisOptions } from '../../../src/core/analysis/analyze';
import { FileImports } from '../../../src/core/analysis/imports';
import type { ModelReport } from '../../../src/core/analysis/report';
import { loadGrammars } from '../../../src/core/analysis/syntax';

/** The grammars as the package ships them (the build copies the same files into dist/parsers). */
export const wasmDir = dirname(require.resolve('@vscode/tree-sitter-wasm/wasm/tree-sitter.wasm'));

/** With `path`, the file's imports of its neighbours are followed as the CLI and the editor follow them. */
export async function analyzePythonSource(source: string, defaultInput = [3, 32, 32], path?: string, options: Partial<AnalysisOptions> = {}): Promise<ModelReport[]> {
  const parser = (await loadGrammars(wasmDir)).parser('python');
  const tree = parser.parse(source);
  if (!tree) throw new Error('no tree');
  const imports = path ? new FileImports(parser, path) : undefined;
  try {
    return analyzeTree(tree, { defaultInput, ...options, ...(imports ? { imports } : {}) });
  } finally {
    imports?.dispose();
    tree.delete();
  }
}
