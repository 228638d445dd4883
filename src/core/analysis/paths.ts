// Which files hold models, and in which language: light enough for activation and the trainer.
import type { LanguageId } from './syntax';

/** The grammar for a file: Python for .py, TypeScript (which reads JavaScript too) for TF.js files. */
export function languageOfPath(path: string): LanguageId | undefined {
  if (/\.pyi?$/i.test(path)) return 'python';
  if (/\.(ts|mts|cts|js|mjs|cjs)$/i.test(path)) return 'typescript';
  return undefined;
}

/** A Jupyter notebook, whose code cells are read as one program. */
export function isNotebookPath(path: string): boolean {
  return /\.ipynb$/i.test(path);
}
