// Scores the TF.js analysis against TF.js on the official examples (test/fixtures/tfjs-examples),
// with the machinery of the test (test/support/tfjsExamples.ts):
//
//   npx tsx scripts/score-tfjs.ts [--set dev|heldout|all] [--details]
//
// Counted, per set: every model the analysis reports that TF.js builds (a function the file
// declares, called with the arguments the report names, or a module-level variable). Exact: its
// outputs, total and trainable parameters and every layer's type, output shape and parameters equal
// TF.js's. Wrong without saying so: it differs and its report does not say it is incomplete.
// False errors: error diagnostics on a model TF.js builds. A model TF.js cannot build as the file
// gives it (a function whose parameters nothing in the file gives) is not compared; shown as
// complete, its numbers were taken from somewhere (a default). The held-out set (examples the analysis
// is never fixed against) prints its totals only, unless --details.
import { join } from 'node:path';
import { examplesDir, scoreExamples } from '../test/support/tfjsExamples';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--set');
  const chosen = at === -1 || argv[at + 1] === 'all' ? ['dev', 'heldout'] : [argv[at + 1] ?? ''];
  const details = argv.includes('--details');
  for (const set of chosen) {
    if (set !== 'dev' && set !== 'heldout') throw new Error(`--set takes dev, heldout or all, not ${set}`);
    const scored = await scoreExamples(join(examplesDir, set));
    const built = scored.filter((s) => s.verdict !== 'unbuilt');
    const count = (verdict: string) => built.filter((s) => s.verdict === verdict).length;
    const falseErrors = built.filter((s) => s.falseErrors.length > 0).length;
    // A function TF.js cannot build without arguments nobody gives: its numbers can only be known if they do not depend on them.
    const unbuilt = scored.filter((s) => s.verdict === 'unbuilt');
    const shownComplete = unbuilt.filter((s) => s.report.complete !== false).length;
    process.stdout.write(`${set}: ${scored.length} models reported, ${built.length} built by TF.js: ${count('exact')} exact, ${count('incomplete')} incomplete (said so), ${count('wrong')} WRONG WITHOUT SAYING SO; ${falseErrors} with a false error; ${unbuilt.length} TF.js cannot build as the file gives them, ${shownComplete} of them shown as complete\n`);
    if (set === 'heldout' && !details) continue;
    for (const s of scored) {
      if (s.verdict === 'exact' && s.falseErrors.length === 0) continue;
      process.stdout.write(`  ${s.verdict.padEnd(10)} ${s.file} ${s.report.name}${s.report.build ? ` (${s.report.build})` : ''}: ${[...s.differences, ...s.falseErrors.map((e) => `false error: ${e}`)].join('; ').slice(0, 600)}\n`);
    }
  }
}

void main();
