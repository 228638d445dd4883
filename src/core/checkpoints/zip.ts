// The entries of a ZIP archive, read from its central directory (ZIP64 included), as torch.save
// writes them (stored, uncompressed) or any zipper would (deflated). No extraction to disk.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Where the entry's local header starts. */
  headerOffset: number;
}

export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
}

export const isZip = (bytes: Uint8Array) => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

export function zipEntries(file: Buffer): Map<string, ZipEntry> {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes (its comment is at most 65,535).
  let end = -1;
  for (let at = file.length - 22; at >= Math.max(0, file.length - 22 - 65_535); at--) {
    if (file.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new CorruptFileError('the ZIP archive has no central directory: the file is truncated or not a ZIP');
  let count = file.readUInt16LE(end + 10);
  let directory = file.readUInt32LE(end + 16);
  if (directory === 0xffffffff || count === 0xffff) {
    const locator = end - 20;
    if (locator < 0 || file.readUInt32LE(locator) !== 0x07064b50) throw new CorruptFileError('the ZIP64 archive has no ZIP64 locator');
    const record = Number(file.readBigUInt64LE(locator + 8));
    if (file.readUInt32LE(record) !== 0x06064b50) throw new CorruptFileError('the ZIP64 end record is missing');
    count = Number(file.readBigUInt64LE(record + 32));
    directory = Number(file.readBigUInt64LE(record + 48));
  }
  const entries = new Map<string, ZipEntry>();
  let at = directory;
  for (let i = 0; i < count; i++) {
    if (at + 46 > file.length || file.readUInt32LE(at) !== 0x02014b50) throw new CorruptFileError(`ZIP entry ${i} of ${count} is damaged`);
    const nameLength = file.readUInt16LE(at + 28);
    const extraLength = file.readUInt16LE(at + 30);
    const commentLength = file.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: file.toString('utf8', at + 46, at + 46 + nameLength),
      method: file.readUInt16LE(at + 10),
      compressedSize: file.readUInt32LE(at + 20),
      size: file.readUInt32LE(at + 24),
      headerOffset: file.readUInt32LE(at + 42),
    };
    // ZIP64 extra field: the 64-bit values, in this order, for each 32-bit one that is saturated.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const [id, length] = [file.readUInt16LE(extra), file.readUInt16LE(extra + 2)];
      if (id === 0x0001) {
        let field = extra + 4;
        for (const key of ['size', 'compressedSize', 'headerOffset'] as const) {
          if (entry[key] === 0xffffffff) {
            entry[key] = Number(file.readBigUInt64LE(field));
            field += 8;
          }
        }
      }
      extra += 4 + length;
    }
    entries.set(entry.name, entry);
    at = extraEnd + commentLength;
  }
  return entries;
}

export function zipEntryData(file: Buffer, entry: ZipEntry): Buffer {
  const header = entry.headerOffset;
  if (header + 30 > file.length || file.readUInt32LE(header) !== 0x04034b50) throw new CorruptFileError(`${entry.name}: its local header is damaged`);
  const start = header + 30 + file.readUInt16LE(header + 26) + file.readUInt16LE(header + 28);
  if (start + entry.compressedSize > file.length) throw new CorruptFileError(`${entry.name}: the file ends ${start + entry.compressedSize - file.length} bytes early`);
  const data = file.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new CorruptFileError(`${entry.name}: compression method ${entry.method} is not supported`);
}
