// The trainer fault suite: one run of the real torch engine killed with SIGKILL at 20 random moments
// (during a training step, during validation, during a checkpoint write), resumed after each. After
// every kill the run folder must be consistent: run.json says how it ended, best.pt and last.pt load
// with torch, no half-written file is left, metrics.csv has no torn line; and Resume goes on from the
// epoch after last.pt's. Prints the counts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, type FSWatcher, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type TrainerEvent, trainingDefaults } from '../../src/core/protocol/trainer';
import { prepareDataset } from '../../src/core/datasets/datasets';
import { random } from '../../src/core/random';
import { type RunResult, TrainingRun } from '../../src/core/training/trainingRun';

const python = process.env['CNN_LAB_TEST_PYTHON'] ?? '/usr/bin/python3';
const repo = resolve(__dirname, '../..');
const trainerDir = join(repo, 'dist/trainer');

// A conv layer heavy enough that validation takes about as long as training (half the set is held
// out), and a 48 MB buffer so that writing last.pt takes long enough to be caught in the middle.
const model = `import torch
import torch.nn as nn
import torch.nn.functional as F


class KillTarget(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 64, 5, padding=2)
        self.fc = nn.Linear(64 * 14 * 14, 10)
        self.register_buffer("table", torch.rand(12_000_000))

    def forward(self, x):
        return self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1))
`;

type Phase = 'step' | 'validation' | 'checkpoint';
const epochs = 24;
const kills = 20;

/** What torch finds in the run's checkpoints, loaded as a user's torch.load would. */
function loadCheckpoints(runDir: string): { best: string[] | null; last: { keys: string[]; epoch: number } | null } {
  const script = `import json, os, sys, torch
run = sys.argv[1]
def load(name):
    path = os.path.join(run, name)
    return torch.load(path, map_location="cpu") if os.path.exists(path) else None
best, last = load("best.pt"), load("last.pt")
print(json.dumps({"best": sorted(best) if best is not None else None, "last": {"keys": sorted(last), "epoch": last["epoch"]} if last is not None else None}))`;
  return JSON.parse(execFileSync(python, ['-c', script, runDir], { encoding: 'utf8' })) as ReturnType<typeof loadCheckpoints>;
}

/** Checks everything a user or Resume reads in the folder; throws naming what is inconsistent. */
function assertConsistent(runDir: string, what: string): number {
  const state = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { status: string; exit?: string };
  assert.deepEqual([state.status, state.exit], ['failed', 'killed by SIGKILL'], `${what}: run.json`);
  assert.deepEqual(readdirSync(runDir).filter((name) => name.endsWith('.partial')), [], `${what}: a half-written file is left`);
  const { best, last } = loadCheckpoints(runDir);
  assert.deepEqual(best, ['conv.bias', 'conv.weight', 'fc.bias', 'fc.weight', 'table'], `${what}: best.pt`);
  assert.deepEqual(last?.keys, ['bestEpoch', 'bestLoss', 'epoch', 'model', 'optimizer', 'scheduler'], `${what}: last.pt`);
  const metrics = readFileSync(join(runDir, 'metrics.csv'), 'utf8');
  assert.ok(metrics.endsWith('\n'), `${what}: metrics.csv ends in a torn line`);
  const rows = metrics.trimEnd().split('\n');
  assert.equal(rows[0], 'kind,epoch,step,train_loss,valid_loss,valid_accuracy,lr,images_per_second,seconds', `${what}: metrics.csv header`);
  for (const row of rows.slice(1)) assert.match(row, /^(step|epoch),\d+,\d+,([^,]*,){5}[^,]+$/, `${what}: metrics.csv row`);
  return last?.epoch ?? 0;
}

describe('trainer faults (kill -9)', function () {
  this.timeout(900_000);

  it(`leaves a consistent, resumable run folder after each of ${kills} kills at random moments, and the run still completes`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnlab-faults-'));
    writeFileSync(join(dir, 'kill_target.py'), model);
    const config = await prepareDataset(
      { ...trainingDefaults, modelFile: join(dir, 'kill_target.py'), className: 'KillTarget', dataset: 'synthetic', epochs, batchSize: 16, validSplit: 0.5, device: 'cpu' },
      { download: false },
    );
    const next = random(2026);
    const observed: Record<Phase, number> = { step: 0, validation: 0, checkpoint: 0 };
    const engine = { python, trainerDir, onLog: () => undefined };

    /**
     * Runs until the planned kill: `phase` in epoch `target`. Step kills land a random moment into the
     * epoch's steps, validation kills a random moment after its last step, checkpoint kills while
     * best.pt or last.pt is being written (its .partial file exists). Returns where the kill landed.
     */
    const runUntilKilled = async (start: (onEvent: (event: TrainerEvent) => void) => TrainingRun, phase: Phase, target: number) => {
      const events: TrainerEvent[] = [];
      let landed: Phase | undefined;
      let watcher: FSWatcher | undefined;
      const trainer: { run?: TrainingRun } = {}; // set once started; the callbacks below run after that
      const kill = (at: Phase) => {
        const pid = trainer.run?.pid;
        if (landed || !pid) return;
        landed = at;
        process.kill(pid, 'SIGKILL');
        watcher?.close();
      };
      /** The phase the trainer is in, from what it has said so far (and a .partial on disk). */
      const now = (): Phase => {
        if (trainer.run && readdirSync(trainer.run.runDir).some((name) => name.endsWith('.partial'))) return 'checkpoint';
        const lastEvent = events.at(-1);
        if (lastEvent?.type === 'progress') return lastEvent.step === lastEvent.steps ? 'validation' : 'step';
        if (lastEvent?.type === 'epoch' || (lastEvent?.type === 'checkpoint' && lastEvent.best)) return 'checkpoint';
        return 'step';
      };
      const later = (ms: number, at: () => Phase) => setTimeout(() => kill(at()), ms);
      trainer.run = start((event) => {
        events.push(event);
        if (!('epoch' in event) || event.epoch !== target || landed) return;
        if (phase === 'step' && event.type === 'progress' && event.step === 1) later(next() * 400, now);
        if (phase === 'validation' && event.type === 'progress' && event.step === event.steps) later(20 + next() * 400, now);
        if (phase === 'checkpoint' && event.type === 'epoch' && !watcher) {
          const runDir = trainer.run?.runDir ?? '';
          const delay = next() * 20;
          watcher = watch(runDir, (_, name) => {
            if (name?.endsWith('.partial') && existsSync(join(runDir, name))) later(delay, () => (existsSync(join(runDir, name)) ? 'checkpoint' : now()));
          });
        }
      });
      const result: RunResult = await trainer.run.result;
      watcher?.close();
      return { result, events, landed };
    };

    // The first run keeps its first epoch: before last.pt exists there is nothing to resume from.
    let start = (onEvent: (event: TrainerEvent) => void) => TrainingRun.start({ ...engine, config, runsDir: join(dir, 'runs'), onEvent });
    let lastEpoch = 0;
    let runDir = '';
    for (let n = 1; n <= kills; n++) {
      const phase = (['step', 'validation', 'checkpoint'] as const)[Math.floor(next() * 3)] ?? 'step';
      const target = Math.min(epochs, Math.max(2, lastEpoch + 1 + Math.floor(next() * 2)));
      const { result, events, landed } = await runUntilKilled(start, phase, target);
      runDir = result.runDir;
      if (n > 1) assert.equal(events.find((e) => e.type === 'progress' && 'epoch' in e)?.epoch, lastEpoch + 1, `resume ${n - 1} goes on from the epoch after last.pt's`);
      assert.ok(landed, `kill ${n} (${phase} in epoch ${target}) happened: the run ended ${result.status}`);
      observed[landed] += 1;
      lastEpoch = assertConsistent(runDir, `after kill ${n} (${landed} in epoch ${target})`);
      start = (onEvent) => TrainingRun.resume(runDir, { ...engine, onEvent });
    }

    const finalEvents: TrainerEvent[] = [];
    const finished = await start((event) => finalEvents.push(event)).result;
    assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
    assert.ok(finalEvents.some((e) => e.type === 'test'), 'the completed run has its test report');
    const rows = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trimEnd().split('\n').slice(1).map((row) => row.split(','));
    assert.deepEqual(rows.filter(([kind]) => kind === 'epoch').map(([, epoch]) => Number(epoch)), Array.from({ length: epochs }, (_, i) => i + 1), 'each epoch logged once, in order');
    const stepEpochs = rows.filter(([kind]) => kind === 'step').map(([, epoch]) => Number(epoch));
    assert.ok(stepEpochs.every((epoch, i) => i === 0 || epoch >= (stepEpochs[i - 1] ?? 0)), 'no epoch’s steps repeated after a resume');
    process.stdout.write(`      ${kills} kills (${observed.step} during a step, ${observed.validation} during validation, ${observed.checkpoint} during a checkpoint write), 0 corrupt; resumed ${kills} times, the run completed\n`);
    assert.ok(observed.step > 0 && observed.validation > 0 && observed.checkpoint > 0, 'every phase was hit');
  });
});
