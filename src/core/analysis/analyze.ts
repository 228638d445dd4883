// The analysis entry point for one file, shared by the host, the CLI and the tests.
import { addCosts } from './cost';
import { AnalysisCache, analyzePython, type AnalysisOptions } from './pytorch';
import type { ModelReport } from './report';
import { type LanguageId, Node, type Tree } from './syntax';
import { analyzeTfjs } from './tfjs';

export { AnalysisCache };
export type { AnalysisOptions };

/**
 * The report given its costs: a cache hands reports back unchanged, costed once (costing them again
 * was half of an edit's time in a 2,000-line file). A report without a total has not been costed
 * (addCosts sets it, null where unknown); a WeakSet of those costed was a fortieth of a cold analysis.
 */
function costOf(report: ModelReport): ModelReport {
  return report.totalMacs === undefined ? addCosts(report) : report;
}

/** With a cache kept per document, only the PyTorch models an edit touched are analysed again. Every report carries its layers' costs (cost.ts). */
export function analyzeTree(tree: Tree, options: AnalysisOptions, cache?: AnalysisCache, language: LanguageId = 'python'): ModelReport[] {
  return (language === 'python' ? analyzePython(Node.root(tree), options, cache) : analyzeTfjs(Node.root(tree), { ...options, ...(options.imports ? { scripts: options.imports } : {}) })).map(costOf);
}
