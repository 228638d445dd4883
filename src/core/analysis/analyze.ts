// The analysis entry point for one file, shared by the host, the CLI and the tests.
import { withCosts } from './cost';
import { AnalysisCache, analyzePython, type AnalysisOptions } from './pytorch';
import type { ModelReport } from './report';
import type { LanguageId, Tree } from './syntax';
import { analyzeTfjs } from './tfjs';

export { AnalysisCache };
export type { AnalysisOptions };

/** With a cache kept per document, only the PyTorch models an edit touched are analysed again. Every report carries its layers' costs (cost.ts). */
export function analyzeTree(tree: Tree, options: AnalysisOptions, cache?: AnalysisCache, language: LanguageId = 'python'): ModelReport[] {
  return (language === 'python' ? analyzePython(tree.rootNode, options, cache) : analyzeTfjs(tree.rootNode, options)).map(withCosts);
}

/** The grammar for a file: Python for .py, TypeScript (which reads JavaScript too) for TF.js files. */
export function languageOfPath(path: string): LanguageId | undefined {
  if (/\.pyi?$/i.test(path)) return 'python';
  if (/\.(ts|mts|cts|js|mjs|cjs)$/i.test(path)) return 'typescript';
  return undefined;
}
