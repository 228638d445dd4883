// Messages of the exact-shapes helper (src/trainer/shapes.py), checked on arrival. Its docstring
// says what each field means.
import { array, type Infer, literal, messages, nullable, number, object, optional, type Schema, string, union } from '../schema';

/** The protocol this client speaks; the helper's hello names its own. */
export const SHAPES_PROTOCOL = 2;

const dims = array(number({ integer: true, min: 0 }), { maxLength: 16 });
const count = number({ integer: true, min: 0 });

/** A tuple (or list, or dict) output: each tensor as its shape, each other value as null, nested as returned. */
export type OutputShapes = (number[] | null | OutputShapes)[];

function outputShapes(depth: number): Schema<OutputShapes> {
  return array(depth > 0 ? union(dims, nullable(outputShapes(depth - 1))) : nullable(dims), { maxLength: 1000 });
}

export const exactLayerSchema = object({
  /** The qualified name named_modules() gives it. */
  name: string({ maxLength: 500 }),
  type: string({ maxLength: 200 }),
  /** How often the forward pass called it: 0 for a module it never called. */
  calls: count,
  /** The first tensor among the arguments of its last call. */
  in: nullable(dims),
  /** The first tensor its last call returned. */
  out: nullable(dims),
  /** Only when the last call returned a tuple, list or dict. */
  outputs: optional(outputShapes(8)),
  /** Its own parameters, each counted in the first module that holds it (tied weights once). */
  params: count,
  /** Of its last call, by the static analysis' rules (shapes.py's docstring); null for a layer with weights and no rule. */
  macs: nullable(count),
  /** The 1-based line of the requested file that constructed it; null when another file's module did. */
  line: nullable(number({ integer: true, min: 1 })),
  /** Inside a TorchScript module: its compiled calls are hidden from hooks, so `calls`, `in` and `out` say nothing. */
  unseen: optional(literal(true)),
});

export const exactModelSchema = object({
  name: string({ maxLength: 500 }),
  error: nullable(string({ maxLength: 4000 })),
  input: optional(dims),
  output: optional(nullable(dims)),
  outputs: optional(outputShapes(8)),
  totalParams: optional(count),
  trainableParams: optional(count),
  totalMacs: optional(nullable(count)),
  /** Every leaf module, in the order of its first call, then those never called. */
  layers: optional(array(exactLayerSchema, { maxLength: 20_000 })),
  /** forward's required arguments after the input (an RNN's `hidden`), which the helper gave as None. */
  givenNone: optional(array(string({ maxLength: 200 }), { maxLength: 20 })),
  /** Why it could not be built when the model's code is not at fault: the guard refused an effect or stopped it past the helper's memory, or a file or package it needs is not here. */
  cause: optional(
    object({
      kind: literal('refused', 'missing-file', 'missing-package', 'memory'),
      what: string({ maxLength: 1000 }),
      line: nullable(number({ integer: true, min: 1 })),
      code: string({ maxLength: 200 }),
    }),
  ),
  /** The file's top-level statements the helper did not run: it runs only what builds the models. */
  leftOut: optional(array(object({ line: number({ integer: true, min: 1 }), text: string({ maxLength: 200 }) }), { maxLength: 100 })),
});

export const shapesHelperMessage = messages({
  hello: { protocol: number({ integer: true }), torch: string({ maxLength: 100 }) },
  shapes: {
    id: number({ integer: true }),
    /** One per model requested: a model that failed says so in its own `error` (a bad request is an `error` message). */
    models: array(exactModelSchema, { maxLength: 1000 }),
  },
  error: { id: nullable(number({ integer: true })), message: string({ maxLength: 4000 }) },
});

export type ShapesHelperMessage = Infer<typeof shapesHelperMessage>;
export type ExactModel = Infer<typeof exactModelSchema>;
export type ExactLayer = Infer<typeof exactLayerSchema>;

/** One model to build: `build` is a Python expression evaluated in the file's namespace. */
export interface ExactModelRequest {
  name: string;
  build: string;
  input: readonly number[];
}

/** The one request; the helper checks it on arrival and answers a bad one with an error message. */
export interface ShapesRequest {
  type: 'shapes';
  id: number;
  file: string;
  models: ExactModelRequest[];
}
