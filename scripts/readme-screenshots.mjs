// npm run screenshots: copies the pictures the README shows (docs/screenshots/NAME.png) from the
// last in-host test run (.test-output/screenshots/NAME.png), so that they are the tests' own.
// Run `npm run test:integration` first.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const taken = join(root, '.test-output', 'screenshots');
const names = [...new Set([...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/docs\/screenshots\/([\w-]+)\.png/g)].map((match) => match[1]))];
const missing = names.filter((name) => !existsSync(join(taken, `${name}.png`)));
if (missing.length) {
  process.stderr.write(`not in ${taken}: ${missing.join(', ')}. Run npm run test:integration first.\n`);
  process.exit(1);
}
mkdirSync(join(root, 'docs', 'screenshots'), { recursive: true });
for (const name of names) copyFileSync(join(taken, `${name}.png`), join(root, 'docs', 'screenshots', `${name}.png`));
process.stdout.write(`copied ${names.length} pictures to docs/screenshots/\n`);
