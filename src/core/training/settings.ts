// cnn-lab.json: a run's settings in a file the user edits and commits, written by the Train command
// and read by `cnn-lab train --config`. Paths in it are relative to its folder.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomically } from '../files';
import { isDatasetId, settingsProblem, trainingConfig, type TrainingConfig, trainingDefaults, type TrainingSettings, trainingSettings } from '../protocol/trainer';
import { SchemaError } from '../schema';

export const settingsFileName = 'cnn-lab.json';

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

type PathKey = 'modelFile' | 'dataDir' | 'dataset';

function mapPaths(settings: TrainingSettings, map: (path: string) => string): TrainingSettings {
  const result = { ...settings };
  const paths: Partial<Record<PathKey, string | null | undefined>> = { modelFile: settings.modelFile, dataDir: settings.dataDir };
  if (settings.dataset !== undefined && !isDatasetId(settings.dataset)) paths.dataset = settings.dataset;
  for (const [key, value] of Object.entries(paths) as [PathKey, string | null | undefined][]) {
    if (typeof value === 'string') result[key] = map(value);
  }
  return result;
}

/**
 * The cnn-lab.json that trains a model file: the nearest one in its folder or above it, up to the
 * workspace folder, whose own (existing or not) is the answer when none is nearer.
 */
export function settingsFileFor(modelFile: string, workspaceFolder: string): string {
  const root = resolve(workspaceFolder);
  for (let dir = dirname(resolve(modelFile)); dir === root || dir.startsWith(`${root}${sep}`); dir = dirname(dir)) {
    if (existsSync(join(dir, settingsFileName))) return join(dir, settingsFileName);
    if (dir === root) break;
  }
  return join(root, settingsFileName);
}

/** The file's settings with absolute paths; {} when it does not exist; a SettingsError naming the field when it is wrong. */
export function readSettings(path: string): TrainingSettings {
  if (!existsSync(path)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SettingsError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  let settings: TrainingSettings;
  try {
    settings = trainingSettings.parse(value);
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    throw new SettingsError(`${path}: ${error.path ? `${error.path}: ` : ''}${error.problem}`);
  }
  const problem = settingsProblem(settings);
  if (problem) throw new SettingsError(`${path}: ${problem}`);
  return mapPaths(settings, (p) => resolve(dirname(path), p));
}

/** A run folder's config.json, settings it predates taking their defaults. */
export function readRunConfig(runDir: string): TrainingConfig {
  return trainingConfig.parse({ ...trainingDefaults, ...(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as object) });
}

/** Writes the settings with paths relative to the file's folder, so the file can be committed. */
export function writeSettings(path: string, settings: TrainingSettings): void {
  const relativePaths = mapPaths(settings, (p) => (isAbsolute(p) ? relative(dirname(path), p) || '.' : p).split('\\').join('/'));
  // What is trained first, then how; JSON.stringify drops the placeholders of absent keys.
  const ordered = { modelFile: undefined, className: undefined, dataset: undefined, ...relativePaths };
  writeFileAtomically(path, `${JSON.stringify(ordered, null, 2)}\n`);
}
