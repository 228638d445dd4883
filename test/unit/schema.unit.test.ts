import * as assert from 'node:assert/strict';
import { array, literal, messages, nullable, number, object, optional, safeParse, string } from '../../src/core/schema';

describe('schema', () => {
  const point = object({ x: number({ integer: true, min: 0 }), label: optional(string({ maxLength: 5 })), tag: nullable(literal('a', 'b')) });

  it('accepts a value that matches, keeping optional fields only when present', () => {
    assert.deepEqual(safeParse(point, { x: 3, tag: null }), { ok: true, value: { x: 3, tag: null } });
    assert.deepEqual(safeParse(point, { x: 0, label: 'hi', tag: 'b' }), { ok: true, value: { x: 0, label: 'hi', tag: 'b' } });
  });

  const rejected: [string, unknown, RegExp][] = [
    ["a missing field", { tag: null }, /^x: expected a number, got undefined$/],
    ['a wrong type', { x: '3', tag: null }, /^x: expected a number, got string "3"/],
    ['a non-integer', { x: 1.5, tag: null }, /^x: expected an integer/],
    ['a number out of range', { x: -1, tag: null }, /^x: -1 is outside/],
    ['NaN', { x: Number.NaN, tag: null }, /^x: expected a number/],
    ['an unknown field', { x: 1, tag: null, extra: 1 }, /unexpected field "extra"/],
    ['a string over its bound', { x: 1, label: 'toolong', tag: null }, /^label: string longer than 5/],
    ['a value outside the literals', { x: 1, tag: 'c' }, /^tag: expected "a" or "b"/],
    ['an array instead of an object', [1], /expected an object, got an array/],
    ['null', null, /expected an object, got null/],
    ['an object with a prototype', Object.create({ x: 1 }), /expected an object/],
  ];
  for (const [what, value, error] of rejected) {
    it(`rejects ${what}, naming where`, () => {
      const result = safeParse(point, value);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.error, error);
    });
  }

  it('keeps an exclusive lower bound: above 0 takes the smallest positive number, not 0', () => {
    const rate = number({ above: 0, max: 1 });
    assert.deepEqual(safeParse(rate, Number.MIN_VALUE), { ok: true, value: Number.MIN_VALUE });
    assert.deepEqual(safeParse(rate, 0), { ok: false, error: 'value: 0 is outside (0, 1]' });
    assert.deepEqual(safeParse(rate, 1.5), { ok: false, error: 'value: 1.5 is outside (0, 1]' });
    assert.deepEqual(safeParse(rate, Number.NaN), { ok: false, error: 'value: expected a number, got NaN' });
  });

  it('does not let "__proto__" through as a field', () => {
    const result = safeParse(point, JSON.parse('{"x": 1, "tag": null, "__proto__": {"polluted": true}}'));
    assert.equal(result.ok, false);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('bounds arrays and names the failing item', () => {
    const list = array(number(), { maxLength: 3 });
    assert.match(String(!safeParse(list, [1, 2, 3, 4]).ok && 'long'), /long/);
    const bad = safeParse(object({ values: list }), { values: [1, 'x'] });
    assert.deepEqual(bad, { ok: false, error: 'values[1]: expected a number, got string "x"' });
  });

  describe('messages', () => {
    const schema = messages({ ready: {}, select: { index: number({ integer: true }) } });

    it('accepts each declared message', () => {
      assert.deepEqual(safeParse(schema, { type: 'ready' }), { ok: true, value: { type: 'ready' } });
      assert.deepEqual(safeParse(schema, { type: 'select', index: 2 }), { ok: true, value: { type: 'select', index: 2 } });
    });

    it('rejects unknown types, missing types and wrong payloads', () => {
      assert.deepEqual(safeParse(schema, { type: 'delete' }), { ok: false, error: 'type: unknown message type string "delete"' });
      assert.deepEqual(safeParse(schema, { index: 1 }), { ok: false, error: 'type: unknown message type undefined' });
      assert.deepEqual(safeParse(schema, { type: 'toString' }), { ok: false, error: 'type: unknown message type string "toString"' });
      assert.deepEqual(safeParse(schema, { type: 'select', index: 'all' }), { ok: false, error: 'index: expected a number, got string "all"' });
      assert.deepEqual(safeParse(schema, { type: 'ready', payload: 'x'.repeat(1e6) }), { ok: false, error: 'value: unexpected field "payload"' });
    });
  });
});
