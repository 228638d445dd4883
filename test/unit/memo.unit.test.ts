// The memos of instantiations and of forward passes (src/core/analysis/python/memo.ts) change no
// answer: every model of every corpus reports the same with builds copied and the forward passes of
// like copies replayed as with every build and every forward pass evaluated
// (test/fixtures/semantics/forwards.py holds the copies that must not be replayed).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { analyzeTree } from '../../src/core/analysis/analyze';
import { FileImports } from '../../src/core/analysis/imports';
import { loadGrammars } from '../../src/core/analysis/syntax';
import { pythonFiles, repo } from '../support/corpus';
import { wasmDir } from './support/analysis';

const corpora = ['test/fixtures/semantics', 'test/fixtures/models', 'test/fixtures/realworld', 'test/fixtures/zoo/dev', 'test/fixtures/zoo/heldout'];

describe('the memos of instantiations and forward passes', function () {
  this.timeout(600_000);

  it('answers as evaluating every build does, for every model of every corpus', async () => {
    const parser = (await loadGrammars(wasmDir)).parser('python');
    const differing: string[] = [];
    let files = 0;
    let models = 0;
    for (const dir of corpora) {
      for (const file of pythonFiles(resolve(repo, dir), true)) {
        const text = readFileSync(file, 'utf8');
        const analyse = (memoize: boolean) => {
          const tree = parser.parse(text);
          if (!tree) throw new Error(`no tree for ${file}`);
          const imports = new FileImports(parser, file);
          try {
            return analyzeTree(tree, { defaultInput: [3, 32, 32], imports, memoize });
          } finally {
            imports.dispose();
            tree.delete();
          }
        };
        const [copied, evaluated] = [analyse(true), analyse(false)];
        files++;
        models += evaluated.length;
        for (const [i, report] of evaluated.entries()) {
          if (JSON.stringify(copied[i]) !== JSON.stringify(report)) differing.push(`${relative(repo, file)} ${report.name}`);
        }
        if (copied.length !== evaluated.length) differing.push(`${relative(repo, file)}: ${copied.length} models, not ${evaluated.length}`);
      }
    }
    assert.deepEqual(differing, []);
    assert.ok(files >= 140 && models >= 900, `only ${files} files, ${models} models`);
  });
});
