// `cnn-lab data`: which datasets are where, and fetching the missing ones.
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { downloadableDatasets, downloadable } from '../core/datasets/catalog';
import { DatasetError, fetchDataset, type FetchProgress, locateDataset, summarizeDataset } from '../core/datasets/datasets';

export const dataUsage = `  data [--data-dir DIR] [--download mnist|fashion-mnist|cifar10] [--mirror URL]
                                    List the datasets found in DIR (default: data), or download one,
                                    verified against its published md5s`;

/** Download progress on stderr: a bar on a terminal, a line per file elsewhere. */
export function downloadReporter(): { onProgress: (progress: FetchProgress) => void; done: () => void } {
  const bar = process.stderr.isTTY ? new SingleBar({ format: 'downloading {file} ({index}/{count}) [{bar}] {percentage}% | {mb} MB', hideCursor: true }, undefined) : undefined;
  let current = '';
  return {
    onProgress: (progress) => {
      const mb = (progress.received / 1e6).toFixed(1);
      if (progress.file !== current) {
        current = progress.file;
        if (bar) bar.start(progress.total ?? 1, 0, { ...progress, mb });
        else process.stderr.write(`downloading ${progress.file} (${progress.index}/${progress.count})\n`);
      }
      bar?.update(progress.total === null ? 0 : progress.received, { mb });
    },
    done: () => bar?.stop(),
  };
}

export async function data(argv: string[]): Promise<number> {
  const options: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i] ?? '', argv[i + 1]];
    if (!['--data-dir', '--download', '--mirror'].includes(name) || value === undefined) {
      process.stderr.write(`cnn-lab data: ${value === undefined ? `${name} needs a value` : `unknown option ${name}`}\n`);
      return 2;
    }
    options[name] = value;
  }
  const dataDir = resolve(options['--data-dir'] ?? 'data');
  const wanted = options['--download'];
  if (wanted !== undefined) {
    const dataset = downloadable(wanted);
    if (!dataset) {
      process.stderr.write(`cnn-lab data: --download takes ${downloadableDatasets.map((d) => d.id).join(', ')}\n`);
      return 2;
    }
    const found = locateDataset(dataset, dataDir);
    if (found) {
      process.stdout.write(`${dataset.label} is already in ${found}\n`);
      return 0;
    }
    const reporter = downloadReporter();
    try {
      const folder = await fetchDataset(dataset, dataDir, { mirror: options['--mirror'], onProgress: reporter.onProgress });
      process.stdout.write(`${dataset.label}: ${folder}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      process.stderr.write(`cnn-lab data: ${error.message}\n`);
      return 1;
    } finally {
      reporter.done();
    }
  }
  for (const dataset of downloadableDatasets) {
    const folder = locateDataset(dataset, dataDir);
    if (!folder) {
      process.stdout.write(`${dataset.label.padEnd(14)} not found (cnn-lab data --download ${dataset.id})\n`);
      continue;
    }
    try {
      const { train, test } = summarizeDataset(dataset, folder);
      process.stdout.write(`${dataset.label.padEnd(14)} ${train.toLocaleString('en-US')} training and ${test.toLocaleString('en-US')} test images in ${folder}\n`);
    } catch (error) {
      process.stdout.write(`${dataset.label.padEnd(14)} unreadable in ${folder}: ${(error as Error).message}\n`);
    }
  }
  return 0;
}
