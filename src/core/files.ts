import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Writes through a temporary file in the same folder, then renames: readers see the old file or the new one. */
export function writeFileAtomically(path: string, content: string): void {
  const temporary = `${path}.partial`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
