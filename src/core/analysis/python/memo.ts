// The memo of instantiations: a class built again with the same plain arguments (a ResNet-1202's
// 600 blocks of three shapes) is copied from the first build, when that build changed nothing it
// did not make and what it read is still as it was. And the memo of forward passes: a copy left as
// it was made, called on the same input shapes as another copy of its template, gives what that
// one gave and calls its layers as that one did.
import type { Node } from '../syntax';
import { ClassInfo } from './program';
import { Callable, changeCount, copyModuleFields, Dict, FunctionDef, type LayerCall, Module, moduleCount, Namespace, Path, Tensor, uniqueModules, Unknown, type Value, WholeFloat } from './values';

/** What a value read was, to tell whether it still is: primitives and immutable objects as they are, lists item by item. */
type Snapshot = Value | { readonly items: Snapshot[] };

/** One constructor being watched. */
export interface Watch {
  /** Modules made after this serial are its own. */
  readonly start: number;
  /** Whether it changed only what it made, and read only what can be compared later. */
  pure: boolean;
  /** Module-level names and class attributes it read, by their holder (a scope's vars, a class), with what they were. */
  readonly reads: Map<object, Map<string, Snapshot>>;
}

export interface Memo {
  readonly template: Module;
  readonly reads: Map<object, Map<string, Snapshot>>;
}

export function startWatch(): Watch {
  return { start: moduleCount(), pure: true, reads: new Map() };
}

/** A change seen while constructors run: each one watched that did not make the module changed is not pure. */
export function noteChange(watches: readonly Watch[], target: Module | 'shared'): void {
  for (let i = watches.length - 1; i >= 0; i--) {
    const watch = watches[i] as Watch;
    if (target !== 'shared' && target.serial > watch.start) return;
    watch.pure = false;
  }
}

/** A name read that was not there (a builtin, a star import's): it must still not be there. */
const absent: Snapshot = { items: [] };

export function noteRead(watches: readonly Watch[], holder: object, name: string, value: Value | undefined): void {
  const snapshot = value === undefined ? absent : snapshotOf(value);
  for (const watch of watches) {
    if (snapshot === undefined) watch.pure = false;
    else record(watch, holder, name, snapshot);
  }
}

/** What a copied build read, read again by the constructors around it. */
export function noteReads(watches: readonly Watch[], reads: Memo['reads']): void {
  for (const watch of watches) for (const [holder, names] of reads) for (const [name, snapshot] of names) record(watch, holder, name, snapshot);
}

function record(watch: Watch, holder: object, name: string, snapshot: Snapshot): void {
  let names = watch.reads.get(holder);
  if (!names) watch.reads.set(holder, (names = new Map()));
  if (!names.has(name)) names.set(name, snapshot);
}

/** Whether every name and attribute the first build read still holds what it held. */
export function stillHolds(reads: Memo['reads'], current: (holder: object, name: string) => Value | undefined): boolean {
  for (const [holder, names] of reads) {
    for (const [name, snapshot] of names) {
      const value = current(holder, name);
      if (value === undefined ? snapshot !== absent : snapshot === absent || !same(value, snapshot)) return false;
    }
  }
  return true;
}

function snapshotOf(value: Value): Snapshot | undefined {
  if (Array.isArray(value)) {
    const items: Snapshot[] = [];
    for (const item of value) {
      const snapshot = snapshotOf(item);
      if (snapshot === undefined) return undefined;
      items.push(snapshot);
    }
    return { items };
  }
  // A module or a dict may change in place: what it held when read cannot be told later.
  return sharable(value) ? value : undefined;
}

/**
 * Whether a value never changes in place, so that a snapshot or a copy may share it: None, numbers,
 * strings, floats, classes, functions, dotted names, unknowns, tensors (a shape is replaced, never changed)
 * and namespaces. A callable is too, but a copy refuses it: it may close over what the build made.
 */
function sharable(value: Value): boolean {
  return typeof value !== 'object' || value === null || value instanceof WholeFloat || value instanceof ClassInfo || value instanceof FunctionDef || value instanceof Path || value instanceof Callable || value instanceof Unknown || value instanceof Tensor || value instanceof Namespace;
}

function same(value: Value, snapshot: Snapshot): boolean {
  if (snapshot !== null && typeof snapshot === 'object' && 'items' in snapshot && !Array.isArray(snapshot)) {
    return Array.isArray(value) && value.length === snapshot.items.length && value.every((item, i) => same(item, snapshot.items[i] as Snapshot));
  }
  return value === snapshot;
}

/** The memo's key for a class built with these arguments, or undefined when one is not plain (a module, a dict, a closure…). */
export function memoKey(cls: ClassInfo, site: Node | undefined, phase: string, positional: readonly Value[], keywords: ReadonlyMap<string, Value>): string | undefined {
  const parts = [identity(cls), site ? identity(site) : '', phase];
  for (const value of positional) {
    const key = plainKey(value);
    if (key === undefined) return undefined;
    parts.push(key);
  }
  for (const [name, value] of keywords) {
    const key = plainKey(value);
    if (key === undefined) return undefined;
    parts.push(`${name}=${key}`);
  }
  return parts.join('\u0000');
}

function plainKey(value: Value): string | undefined {
  if (value === null) return 'None';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : `n${value}`;
  if (value instanceof WholeFloat) return `f${value.value}`;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value.map(plainKey);
    return items.includes(undefined) ? undefined : `[${items.join(',')}]`;
  }
  if (value instanceof Path) return `path:${value.path}`;
  if (value instanceof ClassInfo || value instanceof Callable || (value instanceof FunctionDef && !value.self && !value.closure)) return `#${identity(value)}`;
  return undefined;
}

const identities = new WeakMap<object, string>();
let identified = 0;

/** A name for an object a key holds: classes and modules by their serials (each analysis makes its own), others numbered as met. */
function identity(object: object): string {
  if (object instanceof ClassInfo) return `c${object.serial}`;
  if (object instanceof Module) return `m${object.serial}`;
  let id = identities.get(object);
  if (id === undefined) identities.set(object, (id = String(++identified)));
  return id;
}

/**
 * A copy of what a constructor made (modules made after `start`, their lists and dicts), sharing
 * what is immutable; undefined when it holds what cannot be copied faithfully: a module it did not
 * make, a closure, a callable, a list its caller gave it (Python would share it).
 */
export function copyMade(module: Module, start: number, given: ReadonlySet<unknown>, top?: { node: Node; site: Node }): Module | undefined {
  const copy = copyOf(module, start, given, top);
  // A copy of a template knows what it copies, and when, for the memo of forward passes.
  if (copy && top) {
    const at = changeCount();
    for (const made of uniqueModules(copy)) made.copiedAt = at;
  }
  return copy;
}

function copyOf(module: Module, start: number, given: ReadonlySet<unknown>, top?: { node: Node; site: Node }): Module | undefined {
  const copies = new Map<Module, Module>();
  const copy = (value: Value): Value | undefined => {
    if (Array.isArray(value)) {
      if (given.has(value)) return undefined;
      const items: Value[] = [];
      for (const item of value) {
        const copied = copy(item);
        if (copied === undefined) return undefined;
        items.push(copied);
      }
      return items;
    }
    if (value instanceof Module) return copyModule(value);
    if (value instanceof Dict) {
      const entries = new Map<string, Value>();
      for (const [key, item] of value.entries) {
        const copied = copy(item);
        if (copied === undefined) return undefined;
        entries.set(key, copied);
      }
      return new Dict(entries);
    }
    if (value instanceof Tensor && value.owner) {
      const owner = copyModule(value.owner.module);
      return owner && new Tensor(value.shape, value.reason, value.parameter, { module: owner, name: value.owner.name }, value.values, value.frozen);
    }
    if (value instanceof FunctionDef && (value.self || value.closure)) {
      const self = value.self && copyModule(value.self);
      return self && !value.closure ? new FunctionDef(value.node, self, value.owner, value.file) : undefined;
    }
    return value instanceof Callable || !sharable(value) ? undefined : value;
  };
  const copyModule = (original: Module, at?: { node: Node; site: Node }): Module | undefined => {
    const known = copies.get(original);
    if (known) return known;
    if (original.serial <= start) return undefined;
    const made = new Module(original.type, at?.node ?? original.node, { ...original.options });
    if (top) made.origin = original;
    copies.set(original, made);
    if (!copyModuleFields(original, made, copy)) return undefined;
    if (at) made.site = at.site;
    return made;
  };
  return copyModule(module, top);
}

/** A forward pass of a copy, by its template's module: what it returned and the layer calls it made, in order. */
export interface ForwardMemo {
  readonly output: Value;
  readonly calls: readonly LayerCall[];
  readonly reads: Map<object, Map<string, Snapshot>>;
}

/** The forward memo's key: the method, the template, the arguments (tensors by their known shapes); undefined when one is not plain. */
export function forwardKey(method: Node, origin: Module, positional: readonly Value[], keywords: ReadonlyMap<string, Value>): string | undefined {
  const parts = [identity(method), identity(origin)];
  for (const value of [...positional, ...keywords.values()]) {
    const key = value instanceof Tensor ? tensorKey(value) : plainKey(value);
    if (key === undefined) return undefined;
    parts.push(key);
  }
  return `${parts.join('\u0000')}\u0000${[...keywords.keys()].join(',')}`;
}

function tensorKey(tensor: Tensor): string | undefined {
  if (!tensor.shape || tensor.shape.includes(null) || tensor.values || tensor.owner || tensor.parameter) return undefined;
  return `t${tensor.shape.join(',')}:${tensor.reason ?? ''}`;
}

/**
 * A copy of a template as it was made, its modules by the template's they copy; undefined when a
 * module of it changed since, or holds a list or dict that could have.
 */
export function templateCopies(module: Module): Map<Module, Module> | undefined {
  const copies = new Map<Module, Module>();
  for (const made of uniqueModules(module)) {
    if (!made.origin || made.changedAt > made.copiedAt) return undefined;
    for (const value of made.attributes.values()) if (Array.isArray(value) || value instanceof Dict) return undefined;
    copies.set(made.origin, made);
  }
  return copies;
}

/** What a forward pass returned, if a later copy may share it: tensors no module owns, numbers, None, tuples of them. */
export function sharedOutput(value: Value): boolean {
  if (Array.isArray(value)) return value.every(sharedOutput);
  return value instanceof Tensor ? !value.owner : value === null || typeof value !== 'object' || value instanceof WholeFloat || value instanceof Unknown;
}

/** The memo's output for another copy: its tuples are new, as a new call's would be. */
export function outputCopy(value: Value): Value {
  return Array.isArray(value) ? value.map(outputCopy) : value;
}
