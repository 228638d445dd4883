// str's methods as Python defines them: model code reads class names (`m.__class__.__name__.find('Conv')`
// in every DCGAN's weights_init), builds layer names and parses config strings with them.
import type { Node } from '../syntax';
import { formatField } from './builtins';
import { Raised, Unknown, type Value } from './values';

export type StringMethod = (text: string, args: Value[], keywords: Map<string, Value>, node: Node) => Value;

/**
 * A method taking `parameters` (the first `required` of them needed), by position, and by keyword
 * only those in `keywordable` (most of str's are positional-only). Arguments Python refuses (a
 * TypeError there) make the answer unknown; an unknown argument is the answer, its reason kept.
 */
function method(
  name: string,
  parameters: readonly string[],
  required: number,
  run: (text: string, values: (Value | undefined)[], node: Node) => Value,
  keywordable: readonly string[] = [],
): [string, StringMethod] {
  return [
    name,
    (text, args, keywords, node) => {
      if (args.length > parameters.length) return new Unknown(`str.${name}() with ${args.length} arguments is not followed`);
      const values: (Value | undefined)[] = parameters.map((_, i) => args[i]);
      for (const [keyword, value] of keywords) {
        const at = parameters.indexOf(keyword);
        if (at < args.length || !keywordable.includes(keyword)) return new Unknown(`str.${name}() with ${keyword}= is not followed`);
        values[at] = value;
      }
      for (let i = 0; i < required; i++) if (values[i] === undefined) return new Unknown(`str.${name}() without its ${parameters[i]} is not followed`);
      const unknown = values.find((value) => value instanceof Unknown);
      return unknown ?? run(text, values, node);
    },
  ];
}

/** Characters past the BMP count once in Python and twice in JavaScript: positions over such text are not followed. */
const beyondBmp = /[\uD800-\uDFFF]/;
/** Case and character classes are followed for ASCII text; Unicode's tables are not carried. */
const nonAscii = /[\u0080-\uffff]/;

/** An index argument as Python reads it (None: absent; a bool is an int), or undefined where it is none. */
function indexOf(value: Value | undefined, absent: number): number | undefined {
  if (value === undefined || value === null) return absent;
  if (typeof value === 'boolean') return Number(value);
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/**
 * The `start` and `end` of find, count, startswith and their kin as CPython adjusts them: negatives
 * count from the end, `end` is clipped to the length, `start` is not (a start past the end finds nothing).
 */
function span(text: string, start: Value | undefined, end: Value | undefined): [number, number] | undefined {
  let from = indexOf(start, 0);
  let to = indexOf(end, text.length);
  if (from === undefined || to === undefined) return undefined;
  if (to > text.length) to = text.length;
  else if (to < 0) to = Math.max(0, to + text.length);
  if (from < 0) from = Math.max(0, from + text.length);
  return [from, to];
}

/** The text and a substring as positions can be counted in, or why not. */
function searchable(name: string, text: string, sub: Value | undefined): string | Unknown {
  if (typeof sub !== 'string') return new Unknown(`str.${name}() of something other than a string is not followed`);
  if (beyondBmp.test(text) || beyondBmp.test(sub)) return new Unknown(`str.${name}() over characters beyond the BMP is not followed`);
  return sub;
}

/** str.find and str.rfind: the index of `sub` within text[start:end], or -1. */
function find(name: string, fromRight: boolean) {
  return (text: string, [sub, start, end]: (Value | undefined)[]): number | Unknown => {
    const wanted = searchable(name, text, sub);
    if (wanted instanceof Unknown) return wanted;
    const bounds = span(text, start, end);
    if (!bounds) return new Unknown(`str.${name}() with a start or end that is not an int is not followed`);
    const [from, to] = bounds;
    if (to - from < wanted.length) return -1;
    const within = text.slice(from, to);
    const at = fromRight ? within.lastIndexOf(wanted) : within.indexOf(wanted);
    return at < 0 ? -1 : from + at;
  };
}

/** str.index and str.rindex: str.find and str.rfind, raising ValueError where those give -1. */
function located(name: string, fromRight: boolean) {
  const search = find(name, fromRight);
  return (text: string, values: (Value | undefined)[], node: Node): number | Unknown => {
    const at = search(text, values);
    if (at === -1) throw new Raised('ValueError', node);
    return at;
  };
}

/** str.startswith and str.endswith: whether text[start:end] begins (ends) with the affix or one of a tuple of them. */
function affix(name: string, atEnd: boolean) {
  return (text: string, [affixes, start, end]: (Value | undefined)[]): boolean | Unknown => {
    const candidates = Array.isArray(affixes) ? affixes : [affixes];
    if (!candidates.every((candidate): candidate is string => typeof candidate === 'string')) return new Unknown(`str.${name}() of something other than strings is not followed`);
    const bounds = span(text, start, end);
    if (!bounds || (beyondBmp.test(text) && (start !== undefined || end !== undefined))) return new Unknown(`str.${name}() with these bounds is not followed`);
    const [from, to] = bounds;
    return candidates.some((candidate) => to - from >= candidate.length && text.startsWith(candidate, atEnd ? to - candidate.length : from));
  };
}

/** str.ljust, rjust and center: padded to `width` with one fill character, as CPython splits the margin. */
function pad(name: string, where: 'left' | 'right' | 'center') {
  return (text: string, [width, fill = ' ']: (Value | undefined)[]): string | Unknown => {
    if (typeof width !== 'number' || !Number.isInteger(width) || typeof fill !== 'string' || [...fill].length !== 1 || beyondBmp.test(text)) return new Unknown(`str.${name}() of these arguments is not followed`);
    const margin = width - text.length;
    if (margin <= 0) return text;
    const left = where === 'right' ? margin : where === 'left' ? 0 : Math.floor(margin / 2) + (margin & width & 1);
    return fill.repeat(left) + text + fill.repeat(margin - left);
  };
}

/** A predicate of ASCII text (`isdigit`, `isupper`…): False for the empty string, as Python's are. */
function predicate(name: string, test: (text: string) => boolean): [string, StringMethod] {
  return method(name, [], 0, (text) => (nonAscii.test(text) ? new Unknown(`str.${name}() of non-ASCII text is not followed`) : text !== '' && test(text)));
}

/** A case change of ASCII text. */
function recased(name: string, change: (text: string) => string): [string, StringMethod] {
  return method(name, [], 0, (text) => (nonAscii.test(text) ? new Unknown(`str.${name}() of non-ASCII text is not followed`) : change(text)));
}

const cased = /[A-Za-z]/;

/** str.title: each run of letters capitalised, the others lowered (`"they're"` → `"They'Re"`, as Python gives it). */
function title(text: string): string {
  let previousCased = false;
  let result = '';
  for (const character of text) {
    const letter = cased.test(character);
    result += letter ? (previousCased ? character.toLowerCase() : character.toUpperCase()) : character;
    previousCased = letter;
  }
  return result;
}

/** str.istitle: an upper-case letter only after an uncased character, a lower-case one only after a cased one, and at least one. */
function isTitle(text: string): boolean {
  let previousCased = false;
  let any = false;
  for (const character of text) {
    if (/[A-Z]/.test(character)) {
      if (previousCased) return false;
      previousCased = any = true;
    } else if (/[a-z]/.test(character)) {
      if (!previousCased) return false;
      previousCased = any = true;
    } else previousCased = false;
  }
  return any;
}

/** str.strip() and its sides: whitespace, or the characters given. */
function stripped(text: string, chars: Value | undefined, left: boolean, right: boolean): Value {
  if (chars === undefined || chars === null) return left && right ? text.trim() : left ? text.trimStart() : text.trimEnd();
  if (typeof chars !== 'string') return new Unknown('strip() of something unknown');
  const set = new Set(chars);
  const characters = [...text];
  let start = 0;
  let end = characters.length;
  while (left && start < end && set.has(characters[start] as string)) start++;
  while (right && end > start && set.has(characters[end - 1] as string)) end--;
  return characters.slice(start, end).join('');
}

/** str.split and str.rsplit on a separator, at most `limit` times (negative: no limit) from their side. */
function split(name: string, fromRight: boolean) {
  return (text: string, [separator = null, limit = -1]: (Value | undefined)[]): Value => {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || (separator !== null && typeof separator !== 'string')) return new Unknown(`str.${name}() of something unknown`);
    if (separator === '') return new Unknown(`str.${name}() with an empty separator raises ValueError`);
    if (separator === null) return limit < 0 ? text.trim().split(/\s+/).filter((part) => part !== '') : new Unknown(`str.${name}() on whitespace with maxsplit is not followed`);
    const parts = text.split(separator);
    if (limit < 0 || parts.length - 1 <= limit) return parts;
    return fromRight ? [parts.slice(0, parts.length - limit).join(separator), ...parts.slice(parts.length - limit)] : [...parts.slice(0, limit), parts.slice(limit).join(separator)];
  };
}

/** str.partition and str.rpartition: the text before the separator, the separator and what follows, as a tuple. */
function partition(name: string, fromRight: boolean) {
  return (text: string, [separator]: (Value | undefined)[], node: Node): Value => {
    if (typeof separator !== 'string') return new Unknown(`str.${name}() of something other than a string is not followed`);
    if (separator === '') throw new Raised('ValueError', node);
    const at = fromRight ? text.lastIndexOf(separator) : text.indexOf(separator);
    if (at < 0) return fromRight ? ['', '', text] : [text, '', ''];
    return [text.slice(0, at), separator, text.slice(at + separator.length)];
  };
}

/** The escapes Python decodes in a string literal, by the character after the backslash (a backslash at a line's end joins the lines). */
const escapes = new Map(Object.entries({ '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '', '\r\n': '', '\r': '' }));

/** One escape sequence's text; undefined for one whose character is not carried (`\N{name}`) or that Python refuses. */
function unescaped(sequence: string): string | undefined {
  const body = sequence.slice(1);
  const simple = escapes.get(body);
  if (simple !== undefined) return simple;
  const code = /^[0-7]{1,3}$/.test(body) ? parseInt(body, 8) : /^(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})$/.test(body) ? parseInt(body.slice(1), 16) : undefined;
  if (code !== undefined) return code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
  // Any other backslash stays as written (Python warns of it), but \N{…}, \x, \u and \U written short do not compile.
  return /^[NxuU]/.test(body) ? undefined : sequence;
}

/**
 * A string literal's `string_content` as Python reads it: its escapes decoded (a raw string's kept
 * as written) and an f-string's `{{` and `}}` made single; undefined where an escape is not followed.
 */
export function literalContent(content: Node, raw: boolean): string | undefined {
  const source = content.text;
  let text = '';
  let at = 0;
  for (const part of content.children) {
    if (!part || (part.type !== 'escape_sequence' && part.type !== 'escape_interpolation')) continue;
    const start = part.startIndex - content.startIndex;
    const written = part.text;
    const decoded = part.type === 'escape_interpolation' ? written[0] : raw ? written : unescaped(written);
    if (decoded === undefined) return undefined;
    text += source.slice(at, start) + decoded;
    at = start + written.length;
  }
  return text + source.slice(at);
}

/** Whether a literal's opening (`r'`, `Rb"`, `f'''`) makes it raw, or bytes. */
export function literalKind(start: Node): { raw: boolean; bytes: boolean } {
  const prefix = start.text.toLowerCase();
  return { raw: prefix.includes('r'), bytes: prefix.includes('b') };
}

/** What str.splitlines splits at: \r\n and each of Python's line boundaries (file, group and record separators among them). */
// eslint-disable-next-line no-control-regex
const lineBoundary = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/g;

export const stringMethods = new Map<string, StringMethod>([
  [
    'format',
    (text, args, keywords) => {
      let next = 0;
      let failed = false;
      const result = text.replace(/\{\{|\}\}|\{([^{}!:]*)(![rsa])?(?::([^{}]*))?\}/g, (whole, field: string | undefined, conversion: string | undefined, spec: string | undefined) => {
        if (whole === '{{' || whole === '}}') return whole[0] as string;
        const name = field ?? '';
        const value = name === '' ? args[next++] : /^\d+$/.test(name) ? args[Number(name)] : keywords.get(name);
        const formatted = value === undefined ? undefined : formatField(value, spec ?? '', conversion ?? '');
        if (formatted === undefined) failed = true;
        return formatted ?? '';
      });
      return failed ? new Unknown(`the formatted string \`${text}\` is not known`) : result;
    },
  ],
  method('find', ['sub', 'start', 'end'], 1, find('find', false)),
  method('rfind', ['sub', 'start', 'end'], 1, find('rfind', true)),
  method('index', ['sub', 'start', 'end'], 1, located('index', false)),
  method('rindex', ['sub', 'start', 'end'], 1, located('rindex', true)),
  method('count', ['sub', 'start', 'end'], 1, (text, [sub, start, end]) => {
    const wanted = searchable('count', text, sub);
    if (wanted instanceof Unknown) return wanted;
    const bounds = span(text, start, end);
    if (!bounds) return new Unknown('str.count() with a start or end that is not an int is not followed');
    const [from, to] = bounds;
    if (to - from < wanted.length) return 0;
    return wanted === '' ? to - from + 1 : text.slice(from, to).split(wanted).length - 1;
  }),
  method('startswith', ['prefix', 'start', 'end'], 1, affix('startswith', false)),
  method('endswith', ['suffix', 'start', 'end'], 1, affix('endswith', true)),
  method('removeprefix', ['prefix'], 1, (text, [prefix]) => (typeof prefix !== 'string' ? new Unknown('str.removeprefix() of something other than a string') : prefix !== '' && text.startsWith(prefix) ? text.slice(prefix.length) : text)),
  method('removesuffix', ['suffix'], 1, (text, [suffix]) => (typeof suffix !== 'string' ? new Unknown('str.removesuffix() of something other than a string') : suffix !== '' && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text)),
  // JavaScript's lower and upper case are Python's beyond ASCII too (final sigma included); casefold's (ß → ss) is not.
  method('lower', [], 0, (text) => text.toLowerCase()),
  method('upper', [], 0, (text) => text.toUpperCase()),
  recased('casefold', (text) => text.toLowerCase()),
  recased('swapcase', (text) => text.replace(/[A-Za-z]/g, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))),
  recased('capitalize', (text) => text.slice(0, 1).toUpperCase() + text.slice(1).toLowerCase()),
  recased('title', title),
  predicate('isdigit', (text) => /^[0-9]+$/.test(text)),
  predicate('isdecimal', (text) => /^[0-9]+$/.test(text)),
  predicate('isnumeric', (text) => /^[0-9]+$/.test(text)),
  predicate('isalpha', (text) => /^[A-Za-z]+$/.test(text)),
  predicate('isalnum', (text) => /^[A-Za-z0-9]+$/.test(text)),
  // eslint-disable-next-line no-control-regex -- Python's whitespace includes the separators \x1c-\x1f.
  predicate('isspace', (text) => /^[ \t\n\r\x0b\x0c\x1c-\x1f]+$/.test(text)),
  predicate('isupper', (text) => /[A-Z]/.test(text) && !/[a-z]/.test(text)),
  predicate('islower', (text) => /[a-z]/.test(text) && !/[A-Z]/.test(text)),
  predicate('istitle', isTitle),
  predicate('isidentifier', (text) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(text)),
  method('isascii', [], 0, (text) => !nonAscii.test(text)),
  method('ljust', ['width', 'fillchar'], 1, pad('ljust', 'left')),
  method('rjust', ['width', 'fillchar'], 1, pad('rjust', 'right')),
  method('center', ['width', 'fillchar'], 1, pad('center', 'center')),
  method('zfill', ['width'], 1, (text, [width]) => {
    if (typeof width !== 'number' || !Number.isInteger(width) || beyondBmp.test(text)) return new Unknown('str.zfill() of these arguments is not followed');
    const margin = width - text.length;
    if (margin <= 0) return text;
    const signed = text.startsWith('+') || text.startsWith('-');
    return signed ? text[0] + '0'.repeat(margin) + text.slice(1) : '0'.repeat(margin) + text;
  }),
  method('strip', ['chars'], 0, (text, [chars]) => stripped(text, chars, true, true)),
  method('lstrip', ['chars'], 0, (text, [chars]) => stripped(text, chars, true, false)),
  method('rstrip', ['chars'], 0, (text, [chars]) => stripped(text, chars, false, true)),
  method('replace', ['old', 'new', 'count'], 2, (text, [a, b, count = -1]) => {
    if (typeof a !== 'string' || typeof b !== 'string' || typeof count !== 'number' || a === '') return new Unknown('replace() of something unknown');
    const parts = text.split(a);
    const replaced = count < 0 ? parts.length - 1 : Math.min(count, parts.length - 1);
    return parts.slice(0, replaced + 1).join(b) + (replaced < parts.length - 1 ? a + parts.slice(replaced + 1).join(a) : '');
  }),
  method('split', ['sep', 'maxsplit'], 0, split('split', false), ['sep', 'maxsplit']),
  method('rsplit', ['sep', 'maxsplit'], 0, split('rsplit', true), ['sep', 'maxsplit']),
  method('partition', ['sep'], 1, partition('partition', false)),
  method('rpartition', ['sep'], 1, partition('rpartition', true)),
  method(
    'splitlines',
    ['keepends'],
    0,
    (text, [keepends = false]) => {
      if (typeof keepends !== 'boolean') return new Unknown('str.splitlines() of something other than a bool is not followed');
      const lines: string[] = [];
      let start = 0;
      for (const match of text.matchAll(lineBoundary)) {
        const end = (match.index as number) + match[0].length;
        lines.push(text.slice(start, keepends ? end : match.index));
        start = end;
      }
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    },
    ['keepends'],
  ),
  method('join', ['iterable'], 1, (text, [items]) => (Array.isArray(items) && items.every((i) => typeof i === 'string') ? items.join(text) : new Unknown('join() of something unknown'))),
]);
