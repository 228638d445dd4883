// What the extension host loads when exact mode or training needs a notebook's module, not at
// activation (a bundle of its own, dist/analysis.js); the analysis itself runs in worker.ts.
export { exactModule, trainingModule } from './notebookModule';
export { loadParser } from './syntax';
