// The other files of a Python program, for `from .blocks import BasicBlock` and
// `from models.resnet import ResNet`: found as Python finds them from the file analysed (relative
// imports from the importing file's package, absolute ones from the script's folder and the
// folders above it), each parsed once per version. Packages outside the project (torch itself,
// site-packages) are not read.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { Parser, Tree } from '@vscode/tree-sitter-wasm';
import type { PythonImports } from './pytorch';
import type { ScriptImports } from './tfjs';
import { Node } from './syntax';

/** Where the text of a file comes from: the disk, or an editor's unsaved buffer. */
export interface SourceReader {
  read(path: string): { text: string; version: string } | undefined;
  /** Cheap: asked for every imported file each time a cached report is reused. */
  version(path: string): string | undefined;
}

/** A model file is small; a larger one is generated data, not worth parsing for its classes. */
const largestFile = 2_000_000;
/** Folders above the script's that absolute imports are tried from (a project's root, usually). */
const ancestors = 3;
/** Where installed packages live: their neighbours are other packages, not the project's files. */
const installedPackages = /^(site|dist)-packages$/;

export const diskReader: SourceReader = {
  read(path) {
    const version = diskReader.version(path);
    if (version === undefined) return undefined;
    try {
      return { text: readFileSync(path, 'utf8'), version };
    } catch {
      return undefined;
    }
  },
  version(path) {
    try {
      const stat = statSync(path);
      return stat.isFile() && stat.size <= largestFile ? `${stat.mtimeMs}:${stat.size}` : undefined;
    } catch {
      return undefined;
    }
  },
};

/** The installed model packages' folders by package name (the probe's `modelPackages`), asked for each import: the probe may answer after the first analysis. */
export type ModelPackages = () => Readonly<Record<string, string | null | undefined>>;

export class FileImports implements PythonImports, ScriptImports {
  private readonly trees = new Map<string, { version: string; tree: Tree }>();

  constructor(
    private readonly parser: Parser,
    /** The file analysed; imports are found from its folder. */
    private readonly mainFile: string,
    private readonly reader: SourceReader = diskReader,
    /** How many files one program may read, so that a huge package cannot stall the analysis. */
    private readonly limit = 64,
    /** Installed packages whose source is read like the project's own (torchvision's model factories); other installed packages are not. */
    private readonly modelPackages: ModelPackages = () => ({}),
  ) {}

  resolve(module: string, level: number, from: string | undefined): { path: string; root: Node; version: string } | undefined {
    const parts = module === '' ? [] : module.split('.');
    // The analysis knows torch.nn's layers itself; torch's own source is not a model.
    if (level === 0 && parts[0] === 'torch') return undefined;
    const installed = level === 0 && parts[0] ? this.modelPackages()[parts[0]] : undefined;
    const folders = installed ? [dirname(installed)] : this.folders(level, from ?? this.mainFile, parts[0]);
    for (const folder of folders) {
      for (const path of [join(folder, ...parts.slice(0, -1), `${parts.at(-1) ?? '__init__'}.py`), join(folder, ...parts, '__init__.py')]) {
        const root = this.parse(path);
        if (root) return { path, ...root };
      }
    }
    return undefined;
  }

  /**
   * A TF.js file's `import … from './data'` or `require('../model')`: as Node and bundlers find it,
   * with or without its extension, or its folder's index; a bare name through the nearest
   * tsconfig.json's (or jsconfig.json's) `paths` and `baseUrl`, as TypeScript maps it. Packages are not read.
   */
  resolveScript(specifier: string, from: string | undefined): { path: string; root: Node } | undefined {
    const importer = from ?? this.mainFile;
    const candidates = specifier.startsWith('.') ? [resolvePath(dirname(importer), specifier)] : this.mapped(specifier, importer);
    for (const base of candidates) {
      // TypeScript's ES modules name './data.js' for data.ts.
      const stem = base.replace(/\.[cm]?js$/, '');
      for (const path of [base, ...['.ts', '.js', '.mjs', '.cjs', '.tsx', '.jsx'].map((e) => `${stem}${e}`), join(base, 'index.ts'), join(base, 'index.js')]) {
        const parsed = this.parse(path);
        if (parsed) return { path, root: parsed.root };
      }
    }
    return undefined;
  }

  /** Where the nearest tsconfig.json's `paths` (else its `baseUrl`) send a bare import. */
  private mapped(specifier: string, importer: string): string[] {
    const config = this.scriptConfig(dirname(importer));
    if (!config) return [];
    const results: string[] = [];
    for (const [pattern, targets] of Object.entries(config.paths)) {
      const star = pattern.indexOf('*');
      const [prefix, suffix] = star === -1 ? [pattern, ''] : [pattern.slice(0, star), pattern.slice(star + 1)];
      const matches = star === -1 ? specifier === pattern : specifier.startsWith(prefix) && specifier.endsWith(suffix) && specifier.length >= prefix.length + suffix.length;
      if (!matches) continue;
      const captured = star === -1 ? '' : specifier.slice(prefix.length, specifier.length - suffix.length);
      for (const target of targets) results.push(resolvePath(config.pathsBase, target.replace('*', captured)));
    }
    if (config.baseUrl) results.push(resolvePath(config.baseUrl, specifier));
    return results;
  }

  /** The compiler options of the tsconfig.json or jsconfig.json nearest above a folder (its `extends` not followed), read as it is now. */
  private scriptConfig(folder: string): { paths: Record<string, string[]>; pathsBase: string; baseUrl: string | undefined } | undefined {
    let found: { paths: Record<string, string[]>; pathsBase: string; baseUrl: string | undefined } | undefined;
    for (let at = folder, i = 0; i <= ancestors + 2 && !found; at = dirname(at), i++) {
      for (const name of ['tsconfig.json', 'jsconfig.json']) {
        const text = this.reader.read(join(at, name))?.text;
        if (text === undefined) continue;
        try {
          // JSON with comments and trailing commas, as TypeScript reads it.
          const options = (JSON.parse(text.replace(/\/\*[\s\S]*?\*\/|(^|[^:"'])\/\/.*$/gm, '$1').replace(/,(\s*[}\]])/g, '$1')) as { compilerOptions?: { baseUrl?: string; paths?: Record<string, string[]> } }).compilerOptions ?? {};
          const baseUrl = options.baseUrl === undefined ? undefined : resolvePath(at, options.baseUrl);
          found = { paths: options.paths ?? {}, pathsBase: baseUrl ?? at, baseUrl };
        } catch {
          found = { paths: {}, pathsBase: at, baseUrl: undefined };
        }
        break;
      }
      if (dirname(at) === at) break;
    }
    return found;
  }

  version(path: string): string | undefined {
    return this.reader.version(path);
  }

  /** Every file an analysis read: an edit of one may change the reports. */
  readPaths(): string[] {
    return [...this.trees.keys()];
  }

  dispose(): void {
    for (const { tree } of this.trees.values()) tree.delete();
    this.trees.clear();
  }

  /**
   * `from .x` looks in the importing file's folder, `from ..x` one above; `from x` in the script's
   * folder and those above it, and `from pkg.x` also beside the package `pkg` the script is in
   * (torchvision's own `from torchvision.ops import …`, even where it is installed).
   */
  private folders(level: number, from: string, top: string | undefined): string[] {
    if (level > 0) {
      let folder = dirname(from);
      for (let i = 1; i < level; i++) folder = dirname(folder);
      return [folder];
    }
    const result = [dirname(this.mainFile)];
    for (let folder = dirname(result[0] as string); result.length <= ancestors && folder !== result.at(-1) && !installedPackages.test(basename(folder)); folder = dirname(folder)) result.push(folder);
    for (let folder = dirname(this.mainFile); folder !== dirname(folder); folder = dirname(folder)) {
      if (basename(folder) === top) {
        result.push(dirname(folder));
        break;
      }
    }
    return result;
  }

  private parse(path: string): { root: Node; version: string } | undefined {
    const version = this.reader.version(path);
    if (version === undefined) return undefined;
    const known = this.trees.get(path);
    if (known?.version === version) return { root: Node.root(known.tree), version };
    if (!known && this.trees.size >= this.limit) return undefined;
    const source = this.reader.read(path);
    const tree = source ? this.parser.parse(source.text) : null;
    if (!source || !tree) return undefined;
    known?.tree.delete();
    this.trees.set(path, { version: source.version, tree });
    return { root: Node.root(tree), version: source.version };
  }
}
