// Messages of the exact-shapes helper (src/trainer/shapes.py), checked on arrival.
import { array, type Infer, literal, messages, nullable, number, object, optional, string } from '../schema';

const dims = array(number({ integer: true, min: 0 }), { maxLength: 16 });

export const exactModelSchema = object({
  name: string({ maxLength: 500 }),
  error: nullable(string({ maxLength: 4000 })),
  input: optional(dims),
  output: optional(nullable(dims)),
  totalParams: optional(number({ integer: true, min: 0 })),
  trainableParams: optional(number({ integer: true, min: 0 })),
  layers: optional(array(object({ name: string({ maxLength: 500 }), type: string({ maxLength: 200 }), out: nullable(dims), params: number({ integer: true, min: 0 }) }), { maxLength: 20_000 })),
});

export const shapesHelperMessage = messages({
  hello: { protocol: literal(1), torch: string({ maxLength: 100 }) },
  shapes: {
    id: number({ integer: true }),
    error: nullable(string({ maxLength: 4000 })),
    detail: optional(string({ maxLength: 20_000 })),
    models: array(exactModelSchema, { maxLength: 1000 }),
  },
  error: { id: nullable(number({ integer: true })), message: string({ maxLength: 4000 }) },
});

export type ShapesHelperMessage = Infer<typeof shapesHelperMessage>;
export type ExactModel = Infer<typeof exactModelSchema>;

export interface ShapesRequest {
  type: 'shapes';
  id: number;
  file: string;
  models: { name: string; input: readonly number[] }[];
}
