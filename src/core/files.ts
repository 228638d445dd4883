import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** Writes through a temporary file in the same folder, then renames: readers see the old file or the new one. */
export function writeFileAtomically(path: string, content: string | Uint8Array): void {
  const temporary = `${path}.partial`;
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const fd = openSync(temporary, 'w');
  try {
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
