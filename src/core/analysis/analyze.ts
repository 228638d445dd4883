// The analysis entry point for one file, shared by the host, the CLI and the tests.
import { analyzePython, type AnalysisOptions } from './pytorch';
import type { ModelReport } from './report';
import type { Tree } from './syntax';

export type { AnalysisOptions };

export function analyzeTree(tree: Tree, options: AnalysisOptions): ModelReport[] {
  return analyzePython(tree.rootNode, options);
}
