// One training run: its folder, the engine process behind the JSON-lines supervisor, and how it
// ended. Shared by the CLI and the extension host.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { isNotebookPath, languageOfPath } from '../analysis/paths';
import { writeFileAtomically } from '../files';
import { describeExit, type ExitReason, JsonLinesProcess } from '../process/jsonLinesProcess';
import { type NotebookSource, type TrainerCommand, trainerEvent, type TrainerEvent, type TrainingConfig } from '../protocol/trainer';
import { readRunConfig } from './settings';

export interface RunResult {
  status: 'completed' | 'cancelled' | 'failed';
  runDir: string;
  /** For a failed run: what went wrong, in words, and the traceback when there is one. */
  error?: { message: string; detail: string | null };
  exit: ExitReason;
}

export interface EngineOptions {
  /** The Python that trains PyTorch models; TF.js models need none. */
  python: string | null;
  /** The folder of the engines as shipped (dist/trainer): train.py and tfjs.js. */
  trainerDir: string;
  onEvent(event: TrainerEvent): void;
  onLog(line: string): void;
}

export interface StartOptions extends EngineOptions {
  config: TrainingConfig;
  runsDir: string;
  /** A notebook's model: written into the run folder, which trains it instead of `config.modelFile`. */
  module?: ModelModule;
}

/** Which engine trains a model file: Python files are PyTorch models, TypeScript and JavaScript ones TF.js models. */
export const engineFor = (modelFile: string): 'torch' | 'tfjs' => (languageOfPath(modelFile) === 'python' || isNotebookPath(modelFile) ? 'torch' : 'tfjs');

/** The module a notebook's model is trained from, and where it came from (notebookModule.ts writes it). */
export interface ModelModule {
  text: string;
  source: NotebookSource;
}

/** The file a run folder keeps a notebook's model in: a name no import of the user's can mean. */
export const notebookModuleFile = 'cnnlab_notebook_model.py';

/** A file-run's copy of its model file, beside config.json: outside any import path, so it is only a record. */
export const modelSourceCopy = 'model-source';

/** runs/2026-11-24T23-10-05-Net-mnist: sortable, and says what it holds. With `module`, the run trains its own copy of a notebook's model. */
export function createRunDir(runsDir: string, config: TrainingConfig, now = new Date(), module?: ModelModule): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/:/g, '-');
  // A folder of images is named by its own name, never its path (which would nest folders).
  const name = `${stamp}-${config.className}-${basename(config.dataset.replace(/[\\/]+$/, '')).replace(/[^\w.-]+/g, '-')}`;
  let runDir = join(resolve(runsDir), name);
  for (let n = 2; existsSync(runDir); n++) runDir = join(resolve(runsDir), `${name}-${n}`);
  mkdirSync(runDir, { recursive: true });
  let recorded: TrainingConfig = { ...config, modelFile: resolve(config.modelFile) };
  if (module) {
    const modelFile = join(runDir, notebookModuleFile);
    writeFileAtomically(modelFile, module.text);
    recorded = { ...recorded, modelFile, notebook: { ...module.source, path: resolve(module.source.path) } };
  } else if (existsSync(recorded.modelFile)) {
    // The file as it was when the run began, which it may not be by the run's end: what was trained, kept.
    copyFileSync(recorded.modelFile, join(runDir, `${modelSourceCopy}${extname(recorded.modelFile)}`));
  }
  writeFileAtomically(join(runDir, 'config.json'), `${JSON.stringify(recorded, null, 2)}\n`);
  return runDir;
}

export interface RunInfo {
  runDir: string;
  className: string;
  dataset: string;
  status: RunResult['status'] | 'running';
  /** Seconds since the epoch. */
  startedAt: number | null;
  testAccuracy: number | null;
  /** Cancelled or crashed with a last.pt to continue from. */
  resumable: boolean;
}

/** The runs under `runsDir`, newest first; folders without a readable config.json are not runs. */
export function listRuns(runsDir: string): RunInfo[] {
  if (!existsSync(runsDir)) return [];
  const runs: RunInfo[] = [];
  for (const entry of readdirSync(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const runDir = join(runsDir, entry.name);
    const read = (name: string): Record<string, unknown> | undefined => {
      try {
        return JSON.parse(readFileSync(join(runDir, name), 'utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    const config = read('config.json');
    if (!config) continue;
    const state = read('run.json') ?? {};
    const status = (['completed', 'cancelled', 'failed', 'running'] as const).find((s) => s === state['status']) ?? 'failed';
    const summary = state['summary'] as { testAccuracy?: unknown } | null | undefined;
    runs.push({
      runDir,
      className: String(config['className']),
      dataset: String(config['dataset']),
      status,
      startedAt: typeof state['startedAt'] === 'number' ? state['startedAt'] : null,
      testAccuracy: typeof summary?.testAccuracy === 'number' ? summary.testAccuracy : null,
      // last.pt from the torch engine, last/training.json from the tfjs engine (last.old/ when killed while swapping it in).
      resumable: (status === 'cancelled' || status === 'failed') && ['last.pt', 'last/training.json', 'last.old/training.json'].some((path) => existsSync(join(runDir, path))),
    });
  }
  return runs.sort((a, b) => b.runDir.localeCompare(a.runDir));
}

/**
 * The engine's command line: `node tfjs.js RUN_DIR` for a TF.js model; `python train.py RUN_DIR` for
 * a PyTorch one, under torchrun (one process per device, DistributedDataParallel) when the run asks
 * for several devices or machines.
 */
export function engineCommand(engine: Pick<EngineOptions, 'python' | 'trainerDir'>, runDir: string, config: Pick<TrainingConfig, 'modelFile' | 'devices' | 'nodes' | 'rendezvous'>, resume: boolean): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const runArgs = [runDir, ...(resume ? ['--resume'] : [])];
  // In VS Code the extension host's executable is Electron's, which runs as Node when told so.
  if (engineFor(config.modelFile) === 'tfjs') return { command: process.execPath, args: [join(engine.trainerDir, 'tfjs.js'), ...runArgs], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
  if (!engine.python) throw new Error(`${basename(config.modelFile)} is a PyTorch model: training it needs a Python with PyTorch`);
  const script = [join(engine.trainerDir, 'train.py'), ...runArgs];
  const env = { ...process.env, PYTHONUNBUFFERED: '1' };
  if (config.devices === 1 && config.nodes === 1) return { command: engine.python, args: script, env };
  const machines = config.nodes > 1 ? ['--nnodes', String(config.nodes), '--rdzv_backend', 'c10d', '--rdzv_endpoint', config.rendezvous ?? '', '--rdzv_id', 'cnn-lab'] : ['--standalone'];
  // "9:0" says what the defaults say (no redirection) in a form torch 1.13's parser reads right under
  // Python 3.11+, whose Flag enums no longer list the zero member that "0" is looked up as.
  const streams = ['--redirects', '9:0', '--tee', '9:0'];
  // The engine sets each process's threads itself; saying so spares the log torchrun's warning.
  return { command: engine.python, args: ['-m', 'torch.distributed.run', '--nproc_per_node', String(config.devices), ...machines, ...streams, ...script], env: { ...env, OMP_NUM_THREADS: String(Math.max(1, Math.floor(cpus().length / config.devices))) } };
}

/** How to run the layer inspector's activations helper for a checkpoint: the engine that wrote it. */
export function activationsCommand(engine: Pick<EngineOptions, 'python' | 'trainerDir'>, checkpoint: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (checkpoint.endsWith('.json')) return { command: process.execPath, args: [join(engine.trainerDir, 'tfjs.js'), '--activations'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
  if (!engine.python) throw new Error('Feature maps of a PyTorch checkpoint need Python with PyTorch: CNN Lab: Check Python Environment says what was found.');
  return { command: engine.python, args: [join(engine.trainerDir, 'activations.py')], env: { ...process.env, PYTHONUNBUFFERED: '1' } };
}

/** How long torchrun may take to exit once the engine has said how the run ended. */
const launcherGraceMs = 10_000;

export class TrainingRun {
  readonly result: Promise<RunResult>;
  private readonly process: JsonLinesProcess<TrainerEvent, TrainerCommand>;
  private stopRequested = false;

  constructor(
    readonly runDir: string,
    options: EngineOptions & { resume?: boolean },
  ) {
    let finished: Extract<TrainerEvent, { type: 'done' }> | undefined;
    let failure: { message: string; detail: string | null } | undefined;
    // The run's own log: the engine's stderr and every event but the frequent progress (metrics.csv has those).
    const log = (line: string) => {
      try {
        appendFileSync(join(runDir, 'train.log'), `${new Date().toISOString()} ${line}\n`);
      } catch (error) {
        options.onLog(`cannot write ${join(runDir, 'train.log')}: ${(error as Error).message}`);
      }
    };
    const config = readRunConfig(runDir);
    this.process = new JsonLinesProcess({
      ...engineCommand(options, runDir, config, options.resume ?? false),
      cwd: options.trainerDir,
      schema: trainerEvent,
      onMessage: (event) => {
        if (event.type !== 'progress' && event.type !== 'samples') log(JSON.stringify(event));
        // The test images with their predictions, for the dashboard of a finished run (too big for train.log).
        if (event.type === 'samples') writeFileAtomically(join(runDir, 'samples.json'), JSON.stringify(event));
        if (event.type === 'done') finished = event;
        if (event.type === 'error') failure = { message: event.message, detail: event.detail };
        // Under torchrun the run is over once the engine says so, but the launcher can wait minutes more
        // (at its exit barrier, or for a rendezvous store on a machine that is gone): it gets a grace period.
        if ((event.type === 'done' || event.type === 'error') && (config.devices > 1 || config.nodes > 1)) {
          const launcher = setTimeout(() => void this.process.stop(), launcherGraceMs);
          void this.process.exited.then(() => clearTimeout(launcher));
        }
        options.onEvent(event);
      },
      onProtocolError: (line, problem) => options.onLog(`trainer: ignored a line outside the protocol (${problem}): ${line}`),
      onStderr: (line) => {
        log(line);
        options.onLog(`trainer: ${line}`);
      },
    });
    this.result = this.process.exited.then((exit) => {
      const status: RunResult['status'] = finished?.status ?? (this.stopRequested && !failure ? 'cancelled' : 'failed');
      const error = status === 'failed' ? (failure ?? { message: `the trainer ${describeExit(exit)} before finishing`, detail: null }) : undefined;
      // A trainer killed outright cannot say how it ended: the folder must say it for it.
      this.recordEnd(status, exit, error);
      return { status, runDir, exit, ...(error ? { error } : {}) };
    });
  }

  static start(options: StartOptions): TrainingRun {
    return new TrainingRun(createRunDir(options.runsDir, options.config, new Date(), options.module), options);
  }

  /** Continues a cancelled or crashed run from its last.pt, in its own folder, up to `epochs` when given. */
  static resume(runDir: string, options: EngineOptions, epochs?: number): TrainingRun {
    if (epochs !== undefined) {
      const path = join(runDir, 'config.json');
      const config = JSON.parse(readFileSync(path, 'utf8')) as TrainingConfig;
      writeFileAtomically(path, `${JSON.stringify({ ...config, epochs }, null, 2)}\n`);
    }
    return new TrainingRun(runDir, { ...options, resume: true });
  }

  /** The engine's process id, for the fault tests and for users who must find it. */
  get pid(): number | undefined {
    return this.process.pid;
  }

  pause(): void {
    this.process.send({ type: 'pause' });
  }

  resume(): void {
    this.process.send({ type: 'resume' });
  }

  /** Asks the trainer to finish its step and leave; kills it if it has not within `graceMs`. */
  async stop(graceMs = 5000): Promise<RunResult> {
    this.stopRequested = true;
    this.process.send({ type: 'stop' });
    await this.process.stop(graceMs);
    return this.result;
  }

  private recordEnd(status: RunResult['status'], exit: ExitReason, error: RunResult['error']): void {
    // A trainer killed while writing a checkpoint leaves its half-written temporary file (or TF.js folder) behind.
    for (const name of readdirSync(this.runDir)) if (name.endsWith('.partial')) rmSync(join(this.runDir, name), { recursive: true, force: true });
    const path = join(this.runDir, 'run.json');
    let state: Record<string, unknown> = {};
    try {
      state = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      // the trainer died before writing it
    }
    if (state['status'] !== 'running' && state['status'] !== undefined) return;
    writeFileAtomically(path, `${JSON.stringify({ ...state, status, finishedAt: Date.now() / 1000, exit: describeExit(exit), ...(error ? { error: error.message } : {}) }, null, 2)}\n`);
  }
}
