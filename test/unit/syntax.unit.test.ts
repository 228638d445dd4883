// The analysis reads trees through tree-sitter's WebAssembly functions directly (syntax.ts): every
// node of every fixture, Python and TypeScript, must read as web-tree-sitter's own API reads it.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Node as TreeNode, Tree } from '@vscode/tree-sitter-wasm';
import { loadGrammars, Node, type Grammars, type LanguageId } from '../../src/core/analysis/syntax';
import { pythonFiles } from '../support/corpus';
import { scriptFiles } from '../support/tfjsExamples';
import { wasmDir } from './support/analysis';

const fixtures = resolve(__dirname, '../fixtures');

/** Where two readings of one node differ, as a path from the root; empty where they agree. */
function differences(ours: Node, theirs: TreeNode, path: string, found: string[]): void {
  const at = `${path}/${theirs.type}@${theirs.startIndex}`;
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) found.push(`${at}: ${what} ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  };
  same('type', ours.type, theirs.type);
  same('text', ours.text, theirs.text);
  same('range', [ours.startIndex, ours.endIndex, ours.startPosition, ours.endPosition], [theirs.startIndex, theirs.endIndex, theirs.startPosition, theirs.endPosition]);
  same('named', ours.isNamed, theirs.isNamed);
  same('error', ours.hasError, theirs.hasError);
  const key = (node: Node | TreeNode | null) => (node ? `${node.type}@${node.startIndex}-${node.endIndex}` : null);
  same('parent', key(ours.parent), key(theirs.parent));
  same('named children', ours.namedChildren.map(key), theirs.namedChildren.map(key));
  const fields = new Set(theirs.children.map((_, i) => theirs.fieldNameForChild(i)).filter((f): f is string => f !== null));
  for (const field of [...fields, 'no_such_field', 'name']) {
    same(`field ${field}`, key(ours.childForFieldName(field)), key(theirs.childForFieldName(field)));
    same(`fields ${field}`, ours.childrenForFieldName(field).map(key), theirs.childrenForFieldName(field).map(key));
  }
  const children = ours.children;
  same('children', children.map(key), theirs.children.map(key));
  theirs.children.forEach((child, i) => {
    const mine = children[i];
    if (child && mine && found.length < 20) differences(mine, child, at, found);
  });
}

describe('syntax trees read through tree-sitter directly', function () {
  let grammars: Grammars;
  before(async () => {
    grammars = await loadGrammars(wasmDir);
  });

  function check(language: LanguageId, files: string[]): void {
    assert.ok(files.length > 10, `fixtures of ${language}: ${files.length}`);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const tree = grammars.parser(language).parse(text) as Tree;
      try {
        const root = Node.root(tree);
        const found: string[] = [];
        differences(root, tree.rootNode, '', found);
        for (const types of ['call', 'identifier', ['assignment', 'ERROR'], ['call_expression', 'new_expression']]) {
          const key = (node: Node | TreeNode | null) => (node ? `${node.type}@${node.startIndex}` : null);
          assert.deepEqual(root.descendantsOfType(types).map(key), tree.rootNode.descendantsOfType(types).map(key), `${file}: descendants of type ${String(types)}`);
        }
        for (const index of [0, text.length >> 2, text.length >> 1, text.length - 1]) {
          const ours = root.descendantForIndex(index);
          const theirs = tree.rootNode.descendantForIndex(index);
          assert.deepEqual([ours?.type, ours?.startIndex, ours?.endIndex], [theirs?.type, theirs?.startIndex, theirs?.endIndex], `${file}: the node at ${index}`);
        }
        assert.deepEqual(found, [], file);
      } finally {
        tree.delete();
      }
    }
  }

  it('reads every node of the Python fixtures as web-tree-sitter does', function () {
    check('python', pythonFiles(fixtures, true));
  });

  it('reads every node of the TypeScript and JavaScript fixtures as web-tree-sitter does', function () {
    check('typescript', scriptFiles(fixtures));
  });

  it('reads texts at their edges as web-tree-sitter does: leading blank lines, CRLF, characters past the BMP, a syntax error', function () {
    const sources = [
      '\n\n   \n# a comment first\nimport torch.nn as nn\n\n\n',
      'class Net(nn.Module):\r\n    def __init__(self):\r\n        self.fc = nn.Linear(4, 2)  # 🧠 four in\r\n',
      's = "🧠🧠 é"; layer = nn.Conv2d(3, 8, 3)  # ✓\nt = f"{s!r:>10}" 🎉 = 1\n',
      'def broken(:\n    return nn.Linear(\n',
    ];
    for (const source of sources) {
      const tree = grammars.parser('python').parse(source) as Tree;
      try {
        const found: string[] = [];
        differences(Node.root(tree), tree.rootNode, '', found);
        assert.deepEqual(found, [], JSON.stringify(source));
      } finally {
        tree.delete();
      }
    }
  });

  it('reads a tree after the runtime has grown its memory for a larger one', function () {
    const parser = grammars.parser('python');
    const small = parser.parse('import torch.nn as nn\nlayer = nn.Conv2d(3, 8, 3, padding=1)\n') as Tree;
    const first = Node.root(small).namedChildren[0];
    // Tens of megabytes of tree: the WebAssembly memory grows, and its old views are detached.
    const large = parser.parse('x = [' + '1, '.repeat(600_000) + ']\n') as Tree;
    try {
      const assignment = Node.root(small).namedChildren[1]?.namedChildren[0];
      assert.equal(first?.type, 'import_statement');
      assert.equal(assignment?.childForFieldName('right')?.childForFieldName('arguments')?.namedChildren.map((a) => a?.text).join(' '), '3 8 3 padding=1');
      assert.equal(Node.root(large).namedChildren[0]?.namedChildren[0]?.childForFieldName('right')?.namedChildren.length, 600_000);
    } finally {
      large.delete();
      small.delete();
    }
  });
});
