// What the extension host loads when the first model file needs it, not at activation (a bundle of
// its own, dist/analysis.js): the parser runtime, the shape engine, notebooks and imports.
export { AnalysisCache, analyzeTree } from './analyze';
export { diskReader, FileImports } from './imports';
export { NotebookAnalysis } from './notebook';
export { exactModule, trainingModule } from './notebookModule';
export { DocumentTree, loadParser } from './syntax';
