// Every message a webview can send the host, made hostile: an unknown or missing type, each field
// dropped, each field given the wrong kind of value, an extra field, a huge payload, a prototype
// trick. The host validates each message with these schemas before acting (WebviewChannel), so a
// message the schema refuses has no effect. Prints how many were tried.
import * as assert from 'node:assert/strict';
import { compareToHost } from '../../src/core/protocol/compare';
import { dashboardToHost } from '../../src/core/protocol/dashboard';
import { datasetToHost } from '../../src/core/protocol/datasetBrowser';
import { inspectorToHost } from '../../src/core/protocol/inspector';
import { playgroundToHost } from '../../src/core/protocol/playground';
import { tensorToHost } from '../../src/core/protocol/tensor';
import { welcomeToHost } from '../../src/core/protocol/welcome';
import { safeParse, type Schema } from '../../src/core/schema';

/** A valid message of every type each page sends. */
const views: [string, Schema<unknown>, Record<string, unknown>[]][] = [
  ['welcome', welcomeToHost, [{ type: 'ready' }, { type: 'recheckEnvironment' }, { type: 'showLog' }, { type: 'openPythonSetting' }, { type: 'manageTrust' }]],
  ['dashboard', dashboardToHost, [{ type: 'ready' }, { type: 'stop' }, { type: 'resume' }, { type: 'revealFolder' }, { type: 'inspectFilters' }, { type: 'setSmoothing', weight: 0.6 }]],
  ['dataset', datasetToHost, [{ type: 'ready' }, { type: 'page', split: 'train', offset: 64, classFilter: null }, { type: 'augment', split: 'test', index: 3 }]],
  ['compare', compareToHost, [{ type: 'ready' }]],
  [
    'playground',
    playgroundToHost,
    [
      { type: 'ready' },
      { type: 'openImage', from: 'workspace' },
      { type: 'presetApplied', name: 'Sobel x' },
      { type: 'writeCode', layer: { filters: [{ name: 'Sobel x', kernel: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] }], edge: 'zero', channels: 'grey', relu: true, pool: { kind: 'max', size: 2, stride: 2 } }, image: { path: null, width: 8, height: 8 } },
    ],
  ],
  ['inspector', inspectorToHost, [{ type: 'ready' }, { type: 'featureMaps', from: 'dataset' }, { type: 'topPatches', sample: 1000 }, { type: 'showDashboard' }, { type: 'manageTrust' }, { type: 'compareWith', checkpoint: null }, { type: 'pickComparison' }]],
  ['tensor', tensorToHost, [{ type: 'ready' }, { type: 'pin', expression: 'y', pinned: true }]],
];

const wrongValues: unknown[] = [null, undefined, 7, -1e308, 'text', true, [], {}, [1, 2], { nested: { deeper: 1 } }, Number.NaN];

interface Mutation {
  message: unknown;
  /** A null (nullable) field given a value: still a valid message when the value is of the field's kind. */
  fromNull: boolean;
}

/** Each field of a message (at any depth) replaced by each wrong value, dropped, and joined by an extra one. */
function mutations(message: Record<string, unknown>): Mutation[] {
  const out: Mutation[] = [];
  const walk = (value: unknown, rebuild: (v: unknown) => unknown) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, (v) => rebuild(value.map((x, j) => (j === i ? v : x)))));
      out.push({ message: rebuild([...value, ...Array<unknown>(20_000).fill(value[0] ?? 0)]), fromNull: false });
      return;
    }
    if (typeof value !== 'object' || value === null) {
      for (const wrong of wrongValues) if (typeof wrong !== typeof value || value === null) out.push({ message: rebuild(wrong), fromNull: value === null });
      if (typeof value === 'string') out.push({ message: rebuild('x'.repeat(5_000_001)), fromNull: false });
      return;
    }
    for (const [key, field] of Object.entries(value)) {
      if (key === 'type') continue;
      walk(field, (v) => rebuild({ ...value, [key]: v }));
      out.push({ message: rebuild(Object.fromEntries(Object.entries(value).filter(([k]) => k !== key))), fromNull: false });
    }
    out.push({ message: rebuild({ ...value, extra: 1 }), fromNull: false });
    out.push({ message: rebuild(Object.assign(Object.create({ polluted: true }) as object, value)), fromNull: false });
  };
  walk(message, (v) => v);
  return out;
}

describe('hostile webview messages', () => {
  const counts = { tried: 0, refused: 0, stillValid: 0 };
  after(() => process.stdout.write(`      ${counts.tried.toLocaleString('en-US')} damaged messages: ${counts.refused.toLocaleString('en-US')} refused, ${counts.stillValid} still valid (a nullable field given a value of its kind), 0 others accepted\n`));

  for (const [view, schema, valid] of views) {
    it(`the ${view} page: accepts its ${valid.length} message types as declared, and refuses every damaged one`, () => {
      for (const message of valid) assert.ok(safeParse(schema, message).ok, `${view} ${String(message['type'])} is valid`);
      const junk = [{ type: 'unknownType' }, { type: '__proto__' }, { type: 'constructor' }, {}, { type: null }, 'ready', null, 42, [{ type: 'ready' }]].map((message) => ({ message, fromNull: false }));
      for (const { message, fromNull } of [...valid.flatMap(mutations), ...junk]) {
        counts.tried += 1;
        if (!safeParse(schema, message).ok) counts.refused += 1;
        else if (fromNull) counts.stillValid += 1;
        else assert.fail(`${view} accepted ${JSON.stringify(message)?.slice(0, 200)}`);
      }
    });
  }
});
