// npm run package ends here: what cnn-lab.vsix holds, its size against the budget, its largest
// files, and the manifest's fields the Marketplace and Open VSX show (icon, repository, licence,
// changelog…). Any problem fails the run, so CI stops on it.
//   tsx scripts/package-report.ts cnn-lab.vsix
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bufferSource, zipEntries, zipEntryData } from '../src/core/checkpoints/zip';

/** The .vsix may grow to this; it is about 7.3 MB: esbuild's WebAssembly (3.8 MB, for TF.js models in TypeScript) and the README's pictures. */
const budgetBytes = 8_000_000;
/** Only what runs or is shown: bundles, the trainer, parsers, media, snippets and the documents. */
const allowed = [/^extension\/package\.json$/, /^extension\/(readme|changelog)\.md$/i, /^extension\/LICENSE(\.txt)?$/, /^extension\/dist\/(extension|analysis|analysisWorker|cli)\.js$/, /^extension\/dist\/(trainer|parsers|webviews|examples)\//, /^extension\/media\//, /^extension\/snippets\//, /^extension\/docs\/screenshots\/[\w-]+\.png$/, /^extension\.vsixmanifest$/, /^\[Content_Types\]\.xml$/];

const file = resolve(process.argv[2] ?? 'cnn-lab.vsix');
const bytes = bufferSource(readFileSync(file));
const entries = [...zipEntries(bytes).values()].filter((e) => !e.name.endsWith('/'));
const problems: string[] = [];
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

const total = entries.reduce((sum, e) => sum + e.size, 0);
process.stdout.write(`${file}: ${mb(bytes.length)} (budget ${mb(budgetBytes)}), ${entries.length} files, ${mb(total)} unpacked\n`);
const byFolder = new Map<string, { files: number; size: number; packed: number }>();
for (const e of entries) {
  const folder = e.name.split('/').slice(0, 3).join('/').replace(/\/[^/]*\.\w+$/, '');
  const sum = byFolder.get(folder) ?? { files: 0, size: 0, packed: 0 };
  byFolder.set(folder, { files: sum.files + 1, size: sum.size + e.size, packed: sum.packed + e.compressedSize });
}
process.stdout.write('  by folder (packed):\n');
for (const [folder, sum] of [...byFolder].sort((a, b) => b[1].packed - a[1].packed)) process.stdout.write(`    ${mb(sum.packed).padStart(9)}  ${String(sum.files).padStart(3)} files  ${folder}\n`);
process.stdout.write('  largest files (packed):\n');
for (const e of [...entries].sort((a, b) => b.compressedSize - a.compressedSize).slice(0, 10)) process.stdout.write(`    ${mb(e.compressedSize).padStart(9)}  ${e.name}\n`);

if (bytes.length > budgetBytes) problems.push(`the package is ${mb(bytes.length)}, over its ${mb(budgetBytes)} budget`);
const stray = entries.filter((e) => !allowed.some((pattern) => pattern.test(e.name)));
if (stray.length) problems.push(`files the extension does not need (.vscodeignore should leave them out): ${stray.map((e) => e.name).join(', ')}`);

const read = (name: string) => {
  const entry = entries.find((e) => e.name.toLowerCase() === name.toLowerCase());
  return entry && zipEntryData(bytes, entry);
};
const manifest = JSON.parse(read('extension/package.json')?.toString('utf8') ?? '{}') as Record<string, unknown>;
const field = (path: string) => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], manifest);
for (const name of ['name', 'displayName', 'description', 'version', 'publisher', 'license', 'engines.vscode', 'icon', 'repository.url', 'homepage', 'bugs.url', 'qna', 'galleryBanner.color', 'categories', 'keywords']) {
  if (!field(name)) problems.push(`package.json has no ${name}`);
}
// vsce stores LICENSE as LICENSE.txt.
for (const document of [['extension/README.md'], ['extension/CHANGELOG.md'], ['extension/LICENSE', 'extension/LICENSE.txt']]) {
  if (!document.some((name) => read(name))) problems.push(`${document[0]?.slice('extension/'.length) ?? ''} is not in the package`);
}
// Activation loads extension.js alone; the analysis (the parser runtime, the shape engine) starts in a worker with the first model file.
const activationBundle = read('extension/dist/extension.js');
const workerBundle = read('extension/dist/analysisWorker.js');
const engineBundle = read('extension/dist/analysis.js');
process.stdout.write(`  activation loads dist/extension.js, ${mb(activationBundle?.length ?? 0)}; the first model file starts dist/analysisWorker.js, ${mb(workerBundle?.length ?? 0)}; exact mode in a notebook loads dist/analysis.js, ${mb(engineBundle?.length ?? 0)}\n`);
if (!activationBundle || !workerBundle || !engineBundle) problems.push('dist/extension.js, dist/analysisWorker.js or dist/analysis.js is not in the package');
else if (activationBundle.includes('tree-sitter.wasm')) problems.push('dist/extension.js holds the parser runtime: activation should not load it (src/core/analysis/engine.ts)');
const changelog = read('extension/CHANGELOG.md')?.toString('utf8') ?? '';
if (!changelog.includes(`## ${String(field('version'))}`)) problems.push(`CHANGELOG.md has no entry for ${String(field('version'))}`);

// The icon: a PNG of at least 128×128 pixels (the Marketplace's size), read from its IHDR chunk.
const icon = read(`extension/${String(field('icon'))}`);
if (!icon || icon.readUInt32BE(0) !== 0x89504e47) problems.push(`the icon ${String(field('icon'))} is not a PNG in the package`);
else if (icon.readUInt32BE(16) < 128 || icon.readUInt32BE(20) < 128) problems.push(`the icon is ${icon.readUInt32BE(16)}×${icon.readUInt32BE(20)}; the Marketplace wants 128×128`);

// VS Code refuses an extension whose @types/vscode is newer than the oldest version it says it supports.
const engine = /(\d+)\.(\d+)/.exec(String(field('engines.vscode')));
const types = /(\d+)\.(\d+)/.exec(String((field('devDependencies') as Record<string, string> | undefined)?.['@types/vscode']));
if (engine && types && (Number(types[1]) > Number(engine[1]) || (types[1] === engine[1] && Number(types[2]) > Number(engine[2])))) problems.push(`@types/vscode ${types[0]} is newer than engines.vscode ${engine[0]}`);

process.stdout.write(`  manifest: ${String(field('publisher'))}.${String(field('name'))} ${String(field('version'))}, VS Code ${String(field('engines.vscode'))}, icon ${icon ? `${icon.readUInt32BE(16)}×${icon.readUInt32BE(20)}` : 'missing'}, ${String(field('repository.url'))}\n`);
if (problems.length) {
  process.stderr.write(`${problems.map((p) => `✘ ${p}`).join('\n')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write('  ✔ within budget, nothing stray, every field the Marketplace and Open VSX show is set\n');
}
