// Run-time checks for everything that crosses a process or webview boundary. Each schema both
// validates and types a value, so a message is declared once and its TypeScript type is inferred.

export class SchemaError extends Error {
  override readonly name = 'SchemaError';

  constructor(readonly path: string, readonly problem: string) {
    super(`${path || 'value'}: ${problem}`);
  }
}

export interface Schema<T> {
  /** Returns the value, typed, or throws a SchemaError naming the offending path. */
  parse(value: unknown, path?: string): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function safeParse<T>(schema: Schema<T>, value: unknown): ParseResult<T> {
  try {
    return { ok: true, value: schema.parse(value) };
  } catch (error) {
    if (error instanceof SchemaError) return { ok: false, error: error.message };
    throw error;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (Number.isNaN(value)) return 'NaN';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

/** Strings are bounded so that a hostile or broken peer cannot make the host hold huge payloads. */
export function string(options: { maxLength?: number; minLength?: number } = {}): Schema<string> {
  const { maxLength = 4096, minLength = 0 } = options;
  return {
    parse(value, path = '') {
      if (typeof value !== 'string') throw new SchemaError(path, `expected a string, got ${describe(value)}`);
      if (value.length > maxLength) throw new SchemaError(path, `string longer than ${maxLength} characters`);
      if (value.length < minLength) throw new SchemaError(path, `string shorter than ${minLength} characters`);
      return value;
    },
  };
}

/** `above`: an exclusive lower bound, for values such as a learning rate that must be positive. */
export function number(options: { min?: number; above?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const { min = -Infinity, above, max = Infinity, integer = false } = options;
  return {
    parse(value, path = '') {
      if (typeof value !== 'number' || Number.isNaN(value)) throw new SchemaError(path, `expected a number, got ${describe(value)}`);
      if (integer && !Number.isInteger(value)) throw new SchemaError(path, `expected an integer, got ${value}`);
      if (above !== undefined && !(value > above && value <= max)) throw new SchemaError(path, `${value} is outside (${above}, ${max}]`);
      if (value < min || value > max) throw new SchemaError(path, `${value} is outside [${min}, ${max}]`);
      return value;
    },
  };
}

export const boolean: Schema<boolean> = {
  parse(value, path = '') {
    if (typeof value !== 'boolean') throw new SchemaError(path, `expected a boolean, got ${describe(value)}`);
    return value;
  },
};

export function literal<const T extends string | number | boolean>(...allowed: T[]): Schema<T> {
  return {
    parse(value, path = '') {
      if (!allowed.includes(value as T)) {
        throw new SchemaError(path, `expected ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${describe(value)}`);
      }
      return value as T;
    },
  };
}

export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return { parse: (value, path = '') => (value === null ? null : inner.parse(value, path)) };
}

export function array<T>(item: Schema<T>, options: { maxLength?: number } = {}): Schema<T[]> {
  const { maxLength = 10_000 } = options;
  return {
    parse(value, path = '') {
      if (!Array.isArray(value)) throw new SchemaError(path, `expected an array, got ${describe(value)}`);
      if (value.length > maxLength) throw new SchemaError(path, `array longer than ${maxLength} items`);
      return value.map((v, i) => item.parse(v, `${path}[${i}]`));
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
export type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: S[K] extends OptionalSchema<infer T> ? T : never;
};

interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { optional: true, parse: (value, path = '') => (value === undefined ? undefined : inner.parse(value, path)) };
}

/** The same shape with every field optional: a settings file that gives only what it changes. */
export function partial<S extends Shape>(shape: S): { [K in keyof S]: OptionalSchema<Infer<S[K]>> } {
  return Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, optional(schema)])) as { [K in keyof S]: OptionalSchema<Infer<S[K]>> };
}

/** The first alternative that accepts the value; the error lists what each expected. */
export function union<T extends unknown[]>(...alternatives: { [K in keyof T]: Schema<T[K]> }): Schema<T[number]> {
  return {
    parse(value, path = '') {
      const problems: string[] = [];
      for (const alternative of alternatives) {
        try {
          return alternative.parse(value, path);
        } catch (error) {
          if (!(error instanceof SchemaError)) throw error;
          problems.push(error.problem);
        }
      }
      throw new SchemaError(path, problems.join('; or '));
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A plain object with exactly these keys: unknown keys are rejected, not ignored. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) throw new SchemaError(path, `expected an object, got ${describe(value)}`);
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) throw new SchemaError(path, `unexpected field "${key.slice(0, 40)}"`);
      }
      const result: Record<string, unknown> = {};
      for (const [key, schema] of Object.entries(shape)) {
        const parsed = schema.parse(value[key], path ? `${path}.${key}` : key);
        if (parsed !== undefined) result[key] = parsed;
      }
      return result as ObjectOf<S>;
    },
  };
}

type Variants = Record<string, Shape>;
export type MessageOf<V extends Variants> = { [K in keyof V & string]: { type: K } & ObjectOf<V[K]> }[keyof V & string];

/**
 * A union discriminated by `type`, as used by every message between the host, its webviews and
 * the trainer: `messages({ ready: {}, select: { index: number() } })`.
 */
export function messages<V extends Variants>(variants: V): Schema<MessageOf<V>> {
  const schemas = new Map(Object.entries(variants).map(([type, shape]) => [type, object({ type: literal(type), ...shape })]));
  return {
    parse(value, path = '') {
      if (!isPlainObject(value)) throw new SchemaError(path, `expected a message object, got ${describe(value)}`);
      const type = value['type'];
      const schema = typeof type === 'string' ? schemas.get(type) : undefined;
      if (!schema) throw new SchemaError(path ? `${path}.type` : 'type', `unknown message type ${describe(type)}`);
      return schema.parse(value, path) as MessageOf<V>;
    },
  };
}
