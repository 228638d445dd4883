// Messages between the host and the training dashboard. Both sides validate what they receive.
import { array, boolean, type Infer, literal, messages, nullable, number, object, string } from '../schema';
import { sampleImages, testReport } from './trainer';

/** Points per series the host sends at most: a chart of 100,000 steps draws this many. */
export const maxChartPoints = 2000;

const points = array(number(), { maxLength: 2 * maxChartPoints + 4 });
const text = (maxLength = 500) => string({ maxLength });
const count = number({ integer: true, min: 0 });

const epochRow = object({ epoch: count, trainLoss: number(), validLoss: nullable(number()), validAccuracy: nullable(number()), seconds: number() });

export const dashboardToWebview = messages({
  view: {
    runDir: text(4096),
    title: text(),
    /** The header's facts, in order: model, dataset, device, engine and the like. */
    facts: array(object({ label: text(50), value: text() }), { maxLength: 20 }),
    status: literal('starting', 'running', 'completed', 'cancelled', 'failed'),
    progress: nullable(object({ epoch: count, epochs: count, step: count, steps: count, etaSeconds: number() })),
    error: nullable(text(4000)),
    /** Per logged step (x: the step counted over the whole run): flat x, y pairs, decimated. */
    loss: points,
    smoothedLoss: points,
    lr: points,
    imagesPerSecond: points,
    smoothing: number({ min: 0, max: 0.999 }),
    epochs: array(epochRow, { maxLength: 10_000 }),
    bestEpoch: nullable(count),
    classes: array(text(100), { maxLength: 1000 }),
    test: nullable(object(testReport)),
    samples: nullable(object(sampleImages)),
    canStop: boolean,
    canResume: boolean,
    hasBest: boolean,
  },
});

export const dashboardToHost = messages({
  ready: {},
  stop: {},
  resume: {},
  revealFolder: {},
  /** Opens the best checkpoint's first conv layer in the layer inspector. */
  inspectFilters: {},
  setSmoothing: { weight: number({ min: 0, max: 0.999 }) },
});

export type DashboardToWebview = Infer<typeof dashboardToWebview>;
export type DashboardView = Extract<DashboardToWebview, { type: 'view' }>;
export type DashboardToHost = Infer<typeof dashboardToHost>;
