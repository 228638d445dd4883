// One run as the dashboard shows it: fed live by the trainer's events, or read back from a run folder
// (train.log's events, metrics.csv's steps, samples.json), and turned into the view the webview draws.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Comparison } from '../protocol/compare';
import { type DashboardView, maxChartPoints } from '../protocol/dashboard';
import { trainerEvent, type TrainerEvent, type TrainingConfig } from '../protocol/trainer';
import { safeParse } from '../schema';
import { readRunConfig } from '../training/settings';
import { decimate, smooth } from './series';

type Event<T extends TrainerEvent['type']> = Extract<TrainerEvent, { type: T }>;

/** Beyond this many logged steps every second one is dropped: memory stays bounded on any run. */
const maxSteps = 1_000_000;

export class RunModel {
  private steps = { x: [] as number[], loss: [] as number[], lr: [] as number[], rate: [] as number[] };
  private readonly epochs: Event<'epoch'>[] = [];
  private hello: Event<'hello'> | undefined;
  private dataset: Event<'dataset'> | undefined;
  /** The data the run trained on, as the engine reported it (its normalization included), once it has. */
  get datasetEvent(): Event<'dataset'> | undefined {
    return this.dataset;
  }
  private model: Event<'model'> | undefined;
  private startUp: Event<'startUp'> | undefined;
  private tuned: Event<'tuned'> | undefined;
  private progress: Event<'progress'> | undefined;
  private test: Event<'test'> | undefined;
  private samples: Event<'samples'> | undefined;
  private bestEpoch: number | null = null;
  status: DashboardView['status'] = 'starting';
  error: string | null = null;

  constructor(
    readonly runDir: string,
    readonly config: TrainingConfig,
  ) {}

  /** A run folder as it is on disk, finished or not. */
  static fromFolder(runDir: string): RunModel {
    const model = new RunModel(runDir, readRunConfig(runDir));
    const read = (name: string) => (existsSync(join(runDir, name)) ? readFileSync(join(runDir, name), 'utf8') : '');
    // train.log: a timestamp, then an event, or a line of the engine's log, which is skipped.
    for (const line of read('train.log').split('\n')) {
      const json = line.slice(line.indexOf(' ') + 1);
      if (!json.startsWith('{')) continue;
      try {
        const parsed = safeParse(trainerEvent, JSON.parse(json));
        if (parsed.ok) model.ingest(parsed.value);
      } catch {
        // a torn last line of a killed run
      }
    }
    const rows = read('metrics.csv').trim().split('\n').slice(1).map((row) => row.split(','));
    const steps = Number(rows.find((r) => r[0] === 'epoch')?.[2] ?? Math.max(0, ...rows.map((r) => Number(r[2]))));
    for (const [kind, epoch, step, loss, , , lr, rate] of rows) {
      if (kind === 'step') model.addStep((Number(epoch) - 1) * steps + Number(step), Number(loss), Number(lr), Number(rate));
    }
    try {
      const samples = safeParse(trainerEvent, JSON.parse(read('samples.json') || 'null'));
      if (samples.ok) model.ingest(samples.value);
    } catch {
      // none yet, or unreadable: the report shows without images
    }
    try {
      const state = JSON.parse(read('run.json') || '{}') as { status?: string; error?: string };
      const status = (['running', 'completed', 'cancelled', 'failed'] as const).find((s) => s === state.status);
      if (status) model.status = status;
      if (state.error) model.error = state.error;
    } catch {
      // a run killed before it wrote run.json
    }
    return model;
  }

  ingest(event: TrainerEvent): void {
    switch (event.type) {
      case 'hello':
        this.hello = event;
        this.status = 'running';
        return;
      case 'dataset':
        this.dataset = event;
        return;
      case 'model':
        this.model = event;
        return;
      case 'startUp':
        this.startUp = event;
        return;
      case 'tuned':
        this.tuned = event;
        return;
      case 'estimate':
        // Said in a notification; the progress events carry the time left.
        return;
      case 'progress':
        this.progress = event;
        {
          const last = (event.epoch - 1) * event.steps + event.step;
          const losses = event.losses?.length ? event.losses : [event.loss];
          losses.forEach((loss, i) => this.addStep(last - losses.length + 1 + i, loss, event.lr, event.imagesPerSecond));
        }
        return;
      case 'epoch':
        this.epochs.push(event);
        return;
      case 'checkpoint':
        if (event.best) this.bestEpoch = this.epochs.at(-1)?.epoch ?? null;
        return;
      case 'test':
        this.test = event;
        return;
      case 'samples':
        this.samples = event;
        return;
      case 'done':
        this.status = event.status;
        return;
      case 'error':
        this.status = 'failed';
        this.error = event.message;
        return;
    }
  }

  /** Marks how the run ended, for a trainer that could not say so itself. */
  end(status: 'completed' | 'cancelled' | 'failed', error?: string): void {
    this.status = status;
    if (error) this.error = error;
  }

  view(smoothing: number, options: { canStop: boolean; canResume: boolean }): DashboardView {
    const { x, loss, lr, rate } = this.steps;
    const facts: DashboardView['facts'] = [{ label: 'Model', value: `${this.config.className}${this.model ? ` · ${this.model.totalParams.toLocaleString('en-US')} parameters` : ''}` }];
    const dataset = this.dataset;
    facts.push({ label: 'Dataset', value: dataset ? `${dataset.name} · ${dataset.train.toLocaleString('en-US')} training, ${dataset.validation.toLocaleString('en-US')} validation, ${dataset.test.toLocaleString('en-US')} test images of ${dataset.shape.join('×')}` : this.config.dataset });
    if (this.hello) {
      const engine = this.hello.engine === 'tfjs' ? `TF.js ${this.hello.versions.tfjs ?? ''} (${this.hello.backend})` : `PyTorch ${this.hello.versions.torch ?? ''}`;
      facts.push({ label: 'Device', value: `${this.hello.device.name}${this.hello.worldSize > 1 ? ` × ${this.hello.worldSize} processes` : ''}` }, { label: 'Engine', value: engine });
    }
    if (dataset) facts.push({ label: 'Batch', value: `${dataset.batchSize}${dataset.fastPath ? ', fast path' : ''}` });
    if (this.model) facts.push({ label: 'Precision', value: this.tuned?.precision ?? this.model.precision });
    if (this.tuned) {
      const { chosen, tried } = this.tuned;
      const rate = (t: { imagesPerSecond: number }) => Math.round(t.imagesPerSecond).toLocaleString('en-US');
      const winner = tried.find((t) => t.label === chosen);
      const others = tried.filter((t) => t !== winner).map((t) => `${rate(t)} for ${t.label}`).join(', ');
      facts.push({ label: 'Measured', value: `${chosen}${winner ? ` · ${rate(winner)} images/s` : ''} in the first steps${others ? `, against ${others}` : ''}` });
    }
    if (this.startUp) {
      const phases = this.startUp.phases.filter((p) => p.seconds >= 0.05).map((p) => `${p.name} ${p.seconds.toFixed(1)}`).join(' · ');
      facts.push({ label: 'Start-up', value: `${this.startUp.seconds.toFixed(1)} s to the first step${phases ? ` (${phases} s)` : ''}` });
    }
    facts.push({ label: 'Optimizer', value: `${this.config.optimizer} · lr ${this.config.lr}${this.config.schedule === 'none' ? '' : ` · ${this.config.schedule}`}${this.config.weightDecay ? ` · weight decay ${this.config.weightDecay}` : ''}` });
    if (this.config.preset) facts.push({ label: 'Preset', value: `${this.config.preset}${this.config.augment ? ` · ${describeAugment(this.config.augment)}` : ''} · ${this.config.epochs} epochs` });
    const running = this.status === 'running' || this.status === 'starting';
    return {
      type: 'view',
      runDir: this.runDir,
      title: `${this.config.className} on ${this.config.dataset}`,
      facts,
      status: this.status,
      progress: this.progress && running ? { epoch: this.progress.epoch, epochs: this.progress.epochs, step: this.progress.step, steps: this.progress.steps, etaSeconds: this.progress.etaSeconds } : null,
      error: this.error,
      loss: decimate(x, loss, maxChartPoints),
      smoothedLoss: decimate(x, smooth(loss, smoothing), maxChartPoints),
      lr: decimate(x, lr, maxChartPoints),
      imagesPerSecond: decimate(x, rate, maxChartPoints),
      smoothing,
      epochs: this.epochs.map(({ epoch, trainLoss, validLoss, validAccuracy, seconds }) => ({ epoch, trainLoss, validLoss, validAccuracy, seconds })),
      bestEpoch: this.bestEpoch,
      classes: this.dataset?.classes ?? [],
      test: this.test ? { loss: this.test.loss, accuracy: this.test.accuracy, perClass: this.test.perClass, confusion: this.test.confusion } : null,
      samples: this.samples ? { shape: this.samples.shape, pixels: this.samples.pixels, labels: this.samples.labels, predicted: this.samples.predicted } : null,
      hasBest: this.bestEpoch !== null,
      ...options,
    };
  }

  /** The run as one column of a comparison: its smoothed loss and its validation curves. */
  comparison(label: string, smoothing: number): Comparison['runs'][number] {
    const valid = this.epochs.filter((e) => e.validLoss !== null);
    return {
      runDir: this.runDir,
      label,
      status: this.status,
      testAccuracy: this.test?.accuracy ?? null,
      smoothedLoss: decimate(this.steps.x, smooth(this.steps.loss, smoothing), maxChartPoints),
      validLoss: valid.flatMap((e) => [e.epoch, e.validLoss ?? 0]),
      validAccuracy: valid.flatMap((e) => [e.epoch, 100 * (e.validAccuracy ?? 0)]),
    };
  }

  private addStep(x: number, loss: number, lr: number, rate: number): void {
    const steps = this.steps;
    steps.x.push(x);
    steps.loss.push(loss);
    steps.lr.push(lr);
    steps.rate.push(rate);
    if (steps.x.length > maxSteps) {
      const keep = <T>(values: T[]) => values.filter((_, i) => i % 2 === 0);
      this.steps = { x: keep(steps.x), loss: keep(steps.loss), lr: keep(steps.lr), rate: keep(steps.rate) };
    }
  }
}

/** Runs side by side: their curves, and their settings with the ones that differ marked. */
export function compareRuns(models: readonly RunModel[], smoothing = 0.6): Comparison {
  const keys = [...new Set(models.flatMap((m) => Object.keys(m.config)))];
  const show = (value: unknown) => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));
  const settings = keys.map((key) => {
    const values = models.map((m) => show((m.config as Record<string, unknown>)[key]));
    return { key, values, differs: new Set(values).size > 1 };
  });
  // Named by what tells them apart: the folder's time stamp, which every run has.
  const runs = models.map((m) => m.comparison(basename(m.runDir), smoothing));
  return { type: 'comparison', runs, settings };
}

/** "flips, 4-pixel crops": a run's augmentation in words. */
function describeAugment(augment: NonNullable<TrainingConfig['augment']>): string {
  return [augment.flip ? 'flips' : '', augment.rotation ? `rotations within ${augment.rotation}°` : '', augment.cropPadding ? `${augment.cropPadding}-pixel crops` : ''].filter(Boolean).join(', ') || 'no augmentation';
}
