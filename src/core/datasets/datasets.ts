// Finding a dataset's files on disk, fetching them when they are missing, and reading what they hold.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { TrainingConfig } from '../protocol/trainer';
import { type DownloadableDataset, downloadable, type RemoteFile } from './catalog';
import { download, type DownloadProgress } from './download';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** The file as named, or gzip-compressed beside it. */
export function findFile(folder: string, name: string): string | undefined {
  return [join(folder, name), join(folder, `${name}.gz`)].find((path) => existsSync(path) && statSync(path).isFile());
}

function candidates(dataset: DownloadableDataset, dataDir: string | null): string[] {
  return dataset.layouts.flatMap((layout) => (isAbsolute(layout) ? [layout] : dataDir ? [resolve(dataDir, layout)] : []));
}

/** The folder that holds every file the engine reads, in any of the layouts people use, or undefined. */
export function locateDataset(dataset: DownloadableDataset, dataDir: string | null): string | undefined {
  return candidates(dataset, dataDir).find((folder) => dataset.required.every((name) => findFile(folder, name)));
}

export interface FetchProgress extends DownloadProgress {
  file: string;
  /** 1-based. */
  index: number;
  count: number;
}

export interface FetchOptions {
  /** A base URL holding `<dataset folder>/<file>`; tried instead of the usual hosts. */
  mirror?: string | undefined;
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
}

/** What to tell someone whose machine cannot download: which files, and where they go. */
function placeByHand(dataset: DownloadableDataset, folder: string): string {
  const what = dataset.archive ? `the binary version's ${dataset.required.join(', ')} (from ${dataset.files.map((f) => f.name).join(', ')})` : `${dataset.required.join(', ')} (gzip-compressed or not)`;
  return `To add ${dataset.label} by hand, put ${what} in ${folder}, or set a mirror (the cnnLab.datasetMirror setting, or --mirror).`;
}

/** Fetches one file from the first host that serves it whole and right; says what every host answered otherwise. */
async function fetchFile(dataset: DownloadableDataset, hosts: string[], destination: string, file: RemoteFile, options: FetchOptions & { onFileProgress: (progress: DownloadProgress) => void }): Promise<void> {
  const problems: string[] = [];
  for (const host of hosts) {
    try {
      return await download(new URL(file.name, host).toString(), destination, file, { ...(options.signal ? { signal: options.signal } : {}), onProgress: options.onFileProgress });
    } catch (error) {
      if (options.signal?.aborted) throw new DatasetError(`downloading ${dataset.label} was cancelled`);
      problems.push((error as Error).message);
    }
  }
  throw new DatasetError(`${dataset.label} could not be downloaded: ${problems.join('; ')}. ${placeByHand(dataset, dirname(destination))}`);
}

/** Downloads a dataset into `dataDir/<folder>`, verifying each file; returns the folder the engine reads. */
export async function fetchDataset(dataset: DownloadableDataset, dataDir: string, options: FetchOptions = {}): Promise<string> {
  const folder = resolve(dataDir, dataset.folder);
  mkdirSync(folder, { recursive: true });
  const hosts = options.mirror ? [`${options.mirror.replace(/\/+$/, '')}/${dataset.folder}/`] : dataset.hosts;
  for (const [i, file] of dataset.files.entries()) {
    const destination = join(folder, file.name);
    if (existsSync(destination)) continue;
    await fetchFile(dataset, hosts, destination, file, { ...options, onFileProgress: (progress) => options.onProgress?.({ ...progress, file: file.name, index: i + 1, count: dataset.files.length }) });
  }
  if (dataset.archive) unpack(dataset, folder);
  const found = locateDataset(dataset, dataDir);
  if (!found) throw new DatasetError(`${dataset.label} was downloaded to ${folder}, but its files are not all there. ${placeByHand(dataset, folder)}`);
  return found;
}

/** Unpacks the archive's known members (nothing else, and no paths from it) beside it, then removes it. */
function unpack(dataset: DownloadableDataset, folder: string): void {
  const [archive] = dataset.files;
  if (!archive || !dataset.archive) return;
  const path = join(folder, archive.name);
  const target = resolve(folder, '..', dataset.layouts[0] ?? dataset.folder);
  mkdirSync(target, { recursive: true });
  for (const entry of readTar(gunzipSync(readFileSync(path)))) {
    const name = dataset.archive.member(entry.name);
    if (!name) continue;
    writeFileSync(join(target, `${name}.partial`), entry.data);
    renameSync(join(target, `${name}.partial`), join(target, name));
  }
  rmSync(path);
}

/** The regular files of a ustar archive. */
export function* readTar(archive: Uint8Array): Generator<{ name: string; data: Uint8Array }> {
  const text = (start: number, length: number) => new TextDecoder().decode(archive.subarray(start, start + length)).replace(/\0.*$/s, '');
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const name = text(offset, 100);
    if (!name) return; // the end-of-archive blocks
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const prefix = text(offset + 345, 155);
    const type = text(offset + 156, 1);
    if (offset + 512 + size > archive.length) throw new DatasetError(`the archive is truncated at ${name}`);
    if (type === '0' || type === '') yield { name: prefix ? `${prefix}/${name}` : name, data: archive.subarray(offset + 512, offset + 512 + size) };
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}

/** An IDX file (MNIST's format): its shape and its bytes, checked against each other. */
export function readIdx(bytes: Uint8Array, name = 'the file'): { shape: number[]; data: Uint8Array } {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8) throw new DatasetError(`${name} is not an IDX file of unsigned bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = bytes[3] ?? 0;
  if (bytes.length < 4 + 4 * dims) throw new DatasetError(`${name} is truncated or corrupt: its header names ${dims} dimensions but the file ends after ${bytes.length} bytes`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * dims;
  const expected = start + shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) throw new DatasetError(`${name} is truncated or corrupt: ${bytes.length} bytes where its header promises ${expected}`);
  return { shape, data: bytes.subarray(start) };
}

export interface DatasetSummary {
  folder: string;
  train: number;
  test: number;
}

/** How many training and test images a located dataset holds, read from its label files. */
export function summarizeDataset(dataset: DownloadableDataset, folder: string): DatasetSummary {
  if (dataset.archive) {
    const records = (names: string[]) => names.reduce((sum, name) => sum + statSync(join(folder, name)).size / 3073, 0);
    return { folder, train: records(dataset.required.filter((n) => n.startsWith('data_'))), test: records(['test_batch.bin']) };
  }
  const labels = (name: string) => {
    const path = findFile(folder, name) ?? join(folder, name);
    const bytes = readFileSync(path);
    return readIdx(path.endsWith('.gz') ? gunzipSync(bytes) : bytes, path).shape[0] ?? 0;
  };
  return { folder, train: labels('train-labels-idx1-ubyte'), test: labels('t10k-labels-idx1-ubyte') };
}

/**
 * The config the engine gets: a named dataset's `dataDir` becomes the folder that holds its files
 * (fetched first when missing), an image folder an absolute path. Throws a DatasetError that says
 * what to do.
 */
export async function prepareDataset(config: TrainingConfig, options: FetchOptions & { download: boolean }): Promise<TrainingConfig> {
  const dataDir = config.dataDir === null ? null : resolve(config.dataDir);
  const dataset = downloadable(config.dataset);
  if (config.dataset === 'synthetic') return config;
  if (!dataset) {
    const folder = resolve(config.dataset);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new DatasetError(`${config.dataset} is neither a dataset CNN Lab knows (synthetic, mnist, fashion-mnist, cifar10) nor a folder of images`);
    return { ...config, dataset: folder };
  }
  const found = locateDataset(dataset, dataDir);
  if (found) return { ...config, dataDir: found };
  const target = dataDir ?? resolve('data');
  if (!options.download) {
    throw new DatasetError(`${dataset.label} was not found in ${candidates(dataset, dataDir).join(', ')}. ${placeByHand(dataset, join(target, dataset.folder))}`);
  }
  return { ...config, dataDir: await fetchDataset(dataset, target, options) };
}
