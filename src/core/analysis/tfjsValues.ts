// The values the TF.js evaluator (tfjs.ts) computes with: JavaScript's as far as a model's shapes
// need them, TF.js's layers, symbolic tensors and models, and what is not known, with its reason.
import type { Shape } from './shape';
import type { Node } from './syntax';
import type { TfjsLayerSpec } from './tfjsLayers';

/** What the analysis could not follow, and where: every number it touches is unknown. */
export class Unknown {
  constructor(
    readonly reason: string,
    readonly node: Node | undefined,
  ) {}
}

/** A plain object: a layer's config, a module's exports, an options bag. */
export class Obj {
  constructor(readonly entries = new Map<string, Value>()) {}
}

/** A function of the program, with the scope it closes over. */
export class Fn {
  constructor(
    readonly node: Node,
    readonly scope: Scope,
    readonly name: string,
  ) {}
}

export class Layer {
  /** The model it is part of, once one took it: an application elsewhere makes it shared. */
  constructor(
    readonly factory: string,
    readonly spec: TfjsLayerSpec | null,
    readonly config: Obj,
    readonly node: Node,
    /** Why its spec is not known: a config value the analysis could not follow, or a factory it does not know. */
    readonly problem: Unknown | undefined,
  ) {}
}

export class SymbolicTensor {
  constructor(
    /** Null when not known at all; a dimension is null when it alone is not known. */
    readonly shape: Shape | null,
    /** The application that made it; none for a tf.input. */
    readonly producer: Application | null,
    /** Why its shape (or a dimension of it) is not known. */
    readonly lost?: Unknown,
  ) {}
}

/** A layer (or a model used as one) applied to symbolic tensors. */
export interface Application {
  layer: Layer | Model;
  inputs: SymbolicTensor[];
  output: SymbolicTensor;
  error?: string;
  order: number;
}

/** Something lost while a model was built: its numbers are a lower bound. */
export interface Loss {
  reason: string;
  node: Node;
}

/** Where a model was made: the innermost named function that made it, and the variable it was first given to. */
export interface Origin {
  madeIn?: string;
  variable?: string;
}

export class Sequential {
  readonly layers: Layer[] = [];
  readonly losses: Loss[] = [];
  origin: Origin = {};
  constructor(readonly node: Node) {}
}

export class Functional {
  readonly losses: Loss[] = [];
  origin: Origin = {};
  constructor(
    readonly node: Node,
    readonly inputs: SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
  ) {}
}

export type Model = Sequential | Functional;

/** JavaScript's `undefined` is a value like any other; what is not known is an Unknown. */
export type Value = number | string | boolean | null | undefined | Value[] | Obj | Fn | Layer | SymbolicTensor | Sequential | Functional | Unknown;

export class Scope {
  readonly vars = new Map<string, Value>();
  constructor(readonly parent?: Scope) {}

  lookup(name: string): Value | typeof missing {
    return this.holder(name)?.vars.get(name) ?? (this.holder(name) ? undefined : missing);
  }

  /** Assignment: to the scope that declares the name, else (sloppy JavaScript) to the outermost. */
  assign(name: string, value: Value): void {
    (this.holder(name) ?? this.outermost()).vars.set(name, value);
  }

  private holder(name: string): Scope | undefined {
    return this.vars.has(name) ? this : this.parent?.holder(name);
  }

  private outermost(): Scope {
    return this.parent ? this.parent.outermost() : this;
  }
}

/** A name no scope declares. */
export const missing = Symbol('missing');

export function isModel(value: Value): value is Model {
  return value instanceof Sequential || value instanceof Functional;
}

/** JavaScript's truth of a value; undefined when not known. */
export function truthy(value: Value): boolean | undefined {
  if (value instanceof Unknown) return undefined;
  if (value === undefined || value === null || value === false || value === 0 || value === '' || Number.isNaN(value)) return false;
  return true;
}

/** A config value as layer rules read it: numbers, strings, booleans, arrays of them; an Unknown stays one. */
export function plain(value: Value): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Obj) return Object.fromEntries([...value.entries].map(([k, v]) => [k, plain(v)]));
  return value;
}

/** The first Unknown inside a value (a config, a shape), if any. */
export function firstUnknown(value: Value): Unknown | undefined {
  if (value instanceof Unknown) return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = firstUnknown(item);
      if (found) return found;
    }
  }
  if (value instanceof Obj) {
    for (const item of value.entries.values()) {
      const found = firstUnknown(item);
      if (found) return found;
    }
  }
  return undefined;
}
