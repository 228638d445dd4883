// The analysis entry point for one file, shared by the host, the CLI and the tests.
import { AnalysisCache, analyzePython, type AnalysisOptions } from './pytorch';
import type { ModelReport } from './report';
import type { Tree } from './syntax';

export { AnalysisCache };
export type { AnalysisOptions };

/** With a cache kept per document, only the models an edit touched are analysed again. */
export function analyzeTree(tree: Tree, options: AnalysisOptions, cache?: AnalysisCache): ModelReport[] {
  return analyzePython(tree.rootNode, options, cache);
}
