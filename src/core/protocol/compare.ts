// Messages between the host and the run comparison. Both sides validate what they receive.
import { array, boolean, type Infer, literal, messages, nullable, number, object, string } from '../schema';
import { maxChartPoints } from './dashboard';

/** Runs compared at once, at most. */
export const maxComparedRuns = 8;

const text = (maxLength = 500) => string({ maxLength });
const points = array(number(), { maxLength: 2 * maxChartPoints + 4 });

export const compareToWebview = messages({
  comparison: {
    runs: array(
      object({
        runDir: text(4096),
        label: text(),
        status: literal('starting', 'running', 'completed', 'cancelled', 'failed'),
        testAccuracy: nullable(number()),
        /** Smoothed training loss per step, and validation loss and accuracy per epoch: flat x, y pairs. */
        smoothedLoss: points,
        validLoss: points,
        validAccuracy: points,
      }),
      { maxLength: maxComparedRuns },
    ),
    /** Every setting of the runs' config.json, one value per run, and whether they differ. */
    settings: array(object({ key: text(100), values: array(text(), { maxLength: maxComparedRuns }), differs: boolean }), { maxLength: 100 }),
  },
});

export const compareToHost = messages({ ready: {} });

export type CompareToWebview = Infer<typeof compareToWebview>;
export type Comparison = Extract<CompareToWebview, { type: 'comparison' }>;
export type CompareToHost = Infer<typeof compareToHost>;
