// A list's methods as Python runs them: model code builds its layers in lists (`layers.append(…)`,
// `layers.extend(block)`, `cfg.pop(0)`), and what changes a list changes it in place.
import type { Node } from '../syntax';
import { changed, equalValues, iterate, Raised, Unknown, type Value } from './values';

/** The list methods followed (sort is not: its key and order would need the items compared). */
export const listMethods = new Set(['append', 'extend', 'insert', 'pop', 'remove', 'index', 'count', 'reverse', 'clear', 'copy']);

/** One of them on `list`: what cannot be followed is said (`lose`), never skipped. */
export function listMethod(list: Value[], name: string, args: Value[], keywords: Map<string, Value>, node: Node, lose: (node: Node, reason: string) => void): Value {
  const [first, second] = args;
  if (keywords.size > 0 || args.length > (name === 'index' ? 3 : name === 'insert' ? 2 : name === 'pop' || name === 'append' || name === 'extend' || name === 'count' || name === 'remove' ? 1 : 0)) return new Unknown(`list.${name}() with these arguments is not followed`);
  /** The first index at or after `from` whose item equals `value`, -1 for none, undefined where an item compared is not known. */
  const position = (value: Value, from = 0, to = list.length): number | undefined => {
    for (let i = from; i < to; i++) {
      const same = equalValues(list[i] as Value, value);
      if (same === undefined) return undefined;
      if (same) return i;
    }
    return -1;
  };
  switch (name) {
    case 'append':
      changed('shared');
      list.push(first ?? null);
      return null;
    case 'insert':
    case 'extend': {
      changed('shared');
      const items = name === 'extend' ? iterate(first ?? null) : [second ?? null];
      const at = name === 'extend' ? list.length : typeof first === 'number' ? first : undefined;
      if (!items || at === undefined) {
        // Its items are not known: the list holds an unknown item, and the model says what was lost.
        const reason = `list.${name}() of something not known`;
        lose(node, reason);
        list.push(new Unknown(reason));
        return null;
      }
      list.splice(at, 0, ...items);
      return null;
    }
    case 'pop': {
      const index = first === undefined ? list.length - 1 : typeof first === 'number' ? (first < 0 ? first + list.length : first) : undefined;
      if (index === undefined) return new Unknown('list.pop() of an index not known');
      if (index < 0 || index >= list.length) throw new Raised('IndexError', node);
      changed('shared');
      return list.splice(index, 1)[0] as Value;
    }
    case 'remove': {
      const at = position(first ?? null);
      if (at === undefined) return new Unknown('list.remove() of an item that cannot be compared');
      if (at < 0) throw new Raised('ValueError', node);
      changed('shared');
      list.splice(at, 1);
      return null;
    }
    case 'index': {
      const bounds = [args[1], args[2]].map((bound) => (bound === undefined ? undefined : typeof bound === 'number' ? (bound < 0 ? Math.max(0, bound + list.length) : Math.min(bound, list.length)) : NaN));
      if (bounds.some((bound) => Number.isNaN(bound))) return new Unknown('list.index() with bounds not known');
      const at = position(first ?? null, bounds[0], bounds[1]);
      if (at === undefined) return new Unknown('list.index() of an item that cannot be compared');
      if (at < 0) throw new Raised('ValueError', node);
      return at;
    }
    case 'count': {
      let count = 0;
      for (const item of list) {
        const same = equalValues(item, first ?? null);
        if (same === undefined) return new Unknown('list.count() of an item that cannot be compared');
        if (same) count++;
      }
      return count;
    }
    case 'reverse':
      changed('shared');
      list.reverse();
      return null;
    case 'clear':
      changed('shared');
      list.length = 0;
      return null;
    default:
      return [...list];
  }
}
