// The analysis entry point for one file, shared by the host, the CLI and the tests.
import { withCosts } from './cost';
import { AnalysisCache, analyzePython, type AnalysisOptions } from './pytorch';
import type { ModelReport } from './report';
import { type LanguageId, Node, type Tree } from './syntax';
import { analyzeTfjs } from './tfjs';

export { AnalysisCache };
export type { AnalysisOptions };

/** Costs of the reports a cache hands back unchanged, worked out once (they were half of an edit's time in a 2,000-line file). */
const costed = new WeakMap<ModelReport, ModelReport>();

function costOf(report: ModelReport): ModelReport {
  let result = costed.get(report);
  if (!result) {
    result = withCosts(report);
    costed.set(report, result);
  }
  return result;
}

/** With a cache kept per document, only the PyTorch models an edit touched are analysed again. Every report carries its layers' costs (cost.ts). */
export function analyzeTree(tree: Tree, options: AnalysisOptions, cache?: AnalysisCache, language: LanguageId = 'python'): ModelReport[] {
  return (language === 'python' ? analyzePython(Node.root(tree), options, cache) : analyzeTfjs(Node.root(tree), { ...options, ...(options.imports ? { scripts: options.imports } : {}) })).map(costOf);
}
