// Will this checkpoint load? The analysis' answer (the model's state_dict from the static analysis,
// the checkpoint read without Python) against PyTorch's own load_state_dict(strict=True), on pairs
// made from the course's models and other authors' files: each model saved by PyTorch, then its file
// changed as users change them (a layer widened, renamed, added, removed) or the checkpoint saved
// through nn.DataParallel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ModelReport } from '../../src/core/analysis/report';
import { readCheckpoint } from '../../src/core/checkpoints/checkpoint';
import { checkStateDict, formatStateDictCheck, type StateDictCheck } from '../../src/core/checkpoints/stateDictCheck';
import { python } from '../support/corpus';
import { analyzePythonSource } from './support/analysis';

const repo = resolve(__dirname, '../..');

type Truth = { missing: string[]; unexpected: string[]; mismatched: { key: string; checkpoint: number[]; model: number[] }[] } | { error: string } | { saved: string };

function pytorch(jobs: object[]): Truth[] {
  const child = spawnSync(python, [join(repo, 'test/support/state_dict_truth.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 900_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Truth[];
}

/** The ways users change a model file after saving its weights, each a changed copy of the text. */
function mutations(text: string): { what: string; text: string }[] {
  const result: { what: string; text: string }[] = [];
  const layer = /nn\.(Linear|Conv2d)\(\s*([^,()]+?),\s*(\d+)/g;
  let widened = 0;
  for (let match = layer.exec(text); match && widened < 5; match = layer.exec(text)) {
    const at = match.index + match[0].length - (match[3] ?? '').length;
    result.push({ what: `widen ${match[0]}`, text: `${text.slice(0, at)}${Number(match[3]) + 1}${text.slice(at + (match[3] ?? '').length)}` });
    widened++;
  }
  const attributes = [...new Set([...text.matchAll(/self\.(\w+) = nn\.\w+\(/g)].map((m) => m[1] ?? ''))].slice(0, 2);
  for (const attribute of attributes) result.push({ what: `rename ${attribute}`, text: text.replace(new RegExp(`self\\.${attribute}\\b`, 'g'), `self.${attribute}_renamed`) });
  const init = /^(\s*)super\(.*\)\.__init__\(.*\)\s*$/m.exec(text);
  if (init) {
    const end = init.index + init[0].length;
    result.push({ what: 'add a layer', text: `${text.slice(0, end)}\n${init[1] ?? ''}self.added_layer = nn.Linear(3, 3)${text.slice(end)}` });
  }
  for (const removable of [...text.matchAll(/^\s*self\.\w+ = nn\.(BatchNorm\d?d|Conv2d|Linear)\([^()\n]*\)\s*$/gm)].slice(0, 2)) {
    result.push({ what: `remove ${removable[0].trim()}`, text: text.slice(0, removable.index) + text.slice((removable.index ?? 0) + removable[0].length) });
  }
  return result;
}

const sorted = (keys: string[]) => [...keys].sort();

describe('a checkpoint against its model, as load_state_dict(strict=True) sees it', function () {
  this.timeout(1_200_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'cnnlab-statedict-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('says what PyTorch says on 500 and more pairs, where the model is known; says it is not known elsewhere', async () => {
    const files = [
      ...['examples', 'test/fixtures/models', 'test/fixtures/realworld'].flatMap((folder) =>
        readdirSync(join(repo, folder))
          .filter((f) => f.endsWith('.py') && f !== 'ground_truth.py')
          .map((f) => join(repo, folder, f)),
      ),
    ];
    type Pair = { model: string; what: string; file: string; build: string; checkpoint: string; key?: string };
    const saves: object[] = [];
    const pairs: Pair[] = [];
    const reportsOf = new Map<string, ModelReport[]>();
    const analyse = async (file: string, text: string) => {
      let reports = reportsOf.get(file);
      if (!reports) reportsOf.set(file, (reports = await analyzePythonSource(text, [3, 32, 32])));
      return reports;
    };
    for (const [i, file] of files.entries()) {
      const text = readFileSync(file, 'utf8');
      const models = (await analyse(file, text)).filter((m) => m.build && m.totalParams > 0 && m.totalParams < 30_000_000);
      const variants = mutations(text).map((m, j) => {
        const folder = join(dir, `${i}-${j}`);
        mkdirSync(folder, { recursive: true });
        const path = join(folder, basename(file));
        writeFileSync(path, m.text);
        return { what: m.what, path };
      });
      for (const [k, model] of models.entries()) {
        const build = model.build ?? '';
        const checkpoint = join(dir, `${i}-${k}.pt`);
        const wrapped = join(dir, `${i}-${k}-dataparallel.pt`);
        const nested = join(dir, `${i}-${k}-nested.pt`);
        saves.push({ save: { file, build, to: checkpoint } }, { save: { file, build, to: wrapped, wrap: true } }, { save: { file, build, to: nested, nest: 'state_dict' } });
        pairs.push(
          { model: `${basename(file)} ${build}`, what: 'unchanged', file, build, checkpoint },
          { model: `${basename(file)} ${build}`, what: 'saved from nn.DataParallel', file, build, checkpoint: wrapped },
          // torch.save({'epoch': …, 'state_dict': …}): the weights are what checkpoint['state_dict'] holds.
          { model: `${basename(file)} ${build}`, what: "nested under 'state_dict'", file, build, checkpoint: nested, key: 'state_dict' },
        );
        for (const variant of variants) pairs.push({ model: `${basename(file)} ${build}`, what: variant.what, file: variant.path, build, checkpoint });
      }
    }
    const saved = pytorch(saves);
    const unsaved = new Set(saves.filter((_, i) => !('saved' in (saved[i] ?? {}))).map((s) => (s as { save: { to: string } }).save.to));
    const counted = pairs.filter((p) => !unsaved.has(p.checkpoint));
    const truths = pytorch(counted.map((p) => ({ load: { file: p.file, build: p.build, checkpoint: p.checkpoint, ...(p.key ? { key: p.key } : {}) } })));
    let compared = 0;
    let incomplete = 0;
    let loads = 0;
    const wrong: string[] = [];
    for (const [i, pair] of counted.entries()) {
      const truth = truths[i];
      if (!truth || !('missing' in truth)) continue;
      const report = (await analyse(pair.file, readFileSync(pair.file, 'utf8'))).find((m) => m.build === pair.build);
      if (!report) continue;
      const check: StateDictCheck = checkStateDict(report, readCheckpoint(pair.checkpoint));
      if (!check.known) {
        incomplete++;
        assert.equal(check.loads, false);
        continue;
      }
      compared++;
      if (check.loads) loads++;
      const ours = { missing: sorted(check.missing), unexpected: sorted(check.unexpected), mismatched: [...check.mismatched].sort((a, b) => a.key.localeCompare(b.key)) };
      const theirs = { missing: sorted(truth.missing), unexpected: sorted(truth.unexpected), mismatched: [...truth.mismatched].sort((a, b) => a.key.localeCompare(b.key)) };
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        const only = (a: string[], b: string[]) => a.filter((k) => !b.includes(k)).slice(0, 4);
        const apart = { missing: [only(ours.missing, theirs.missing), only(theirs.missing, ours.missing)], unexpected: [only(ours.unexpected, theirs.unexpected), only(theirs.unexpected, ours.unexpected)], mismatched: [ours.mismatched.length, theirs.mismatched.length] };
        wrong.push(`${pair.model} (${pair.what}): [ours only, PyTorch's only] ${JSON.stringify(apart)}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(compared >= 500, `${compared} pairs compared, ${incomplete} not known`);
    assert.ok(loads > 0 && loads < compared, `${loads} of ${compared} load`);
    process.stdout.write(`      ${compared} pairs as PyTorch says (${loads} load, ${compared - loads} do not), ${incomplete} said not known\n`);
  });

  it('words it as PyTorch does, names a DataParallel prefix, and says when a checkpoint loads', async () => {
    const text = readFileSync(join(repo, 'examples/cifar_cnn.py'), 'utf8');
    const [model] = await analyzePythonSource(text);
    assert.ok(model?.stateDict);
    const file = join(dir, 'cifar_cnn.py');
    writeFileSync(file, text);
    const [plain, wrapped] = [join(dir, 'cifar.pt'), join(dir, 'cifar-dp.pt')];
    assert.ok(pytorch([{ save: { file, build: 'Net()', to: plain } }, { save: { file, build: 'Net()', to: wrapped, wrap: true } }]).every((t) => 'saved' in t));
    assert.equal(formatStateDictCheck(checkStateDict(model, readCheckpoint(plain))), `${plain}: 10 tensors, all match Net (541,094 values): load_state_dict(strict=True) loads it`);
    const [wide] = await analyzePythonSource(text.replace('nn.Linear(64 * 4 * 4, 500)', 'nn.Linear(64 * 4 * 4, 512)'));
    assert.ok(wide);
    const lines = formatStateDictCheck(checkStateDict(wide, readCheckpoint(plain))).split('\n');
    assert.deepEqual(lines, [
      'Error(s) in loading state_dict for Net:',
      '\tsize mismatch for fc1.weight: copying a param with shape torch.Size([500, 1024]) from checkpoint, the shape in current model is torch.Size([512, 1024]).',
      '\tsize mismatch for fc1.bias: copying a param with shape torch.Size([500]) from checkpoint, the shape in current model is torch.Size([512]).',
    ]);
    const prefixed = checkStateDict(model, readCheckpoint(wrapped));
    assert.equal(prefixed.prefix, 'module.');
    assert.equal(prefixed.missing.length, 10);
    assert.match(formatStateDictCheck(prefixed), /starts with "module\." \(it was saved from nn\.DataParallel\)/);
  });
});
