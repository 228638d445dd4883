// The entries of a ZIP archive, read from its central directory (ZIP64 included), as torch.save
// writes them (stored, uncompressed) or any zipper would (deflated). No extraction to disk.
import { fstatSync, readSync } from 'node:fs';
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

/** Bytes of a file by range: the file in memory, or read from disk as needed (a 2 GB checkpoint's keys need its directory and data.pkl only). */
export interface ByteSource {
  readonly length: number;
  /** The bytes from `start`, fewer where the file ends first. */
  read(start: number, length: number): Buffer;
}

export const bufferSource = (file: Buffer): ByteSource => ({ length: file.length, read: (start, length) => file.subarray(start, start + length) });

export function fileSource(fd: number): ByteSource {
  return {
    length: fstatSync(fd).size,
    read: (start, length) => {
      const bytes = Buffer.alloc(Math.max(0, length));
      const got = readSync(fd, bytes, 0, bytes.length, start);
      return bytes.subarray(0, got);
    },
  };
}

export function zipEntries(source: ByteSource): Map<string, ZipEntry> {
  // The end-of-central-directory record is in the last 64 KiB + 22 bytes (its comment is at most 65,535).
  const tailStart = Math.max(0, source.length - 22 - 65_535);
  const tail = source.read(tailStart, source.length - tailStart);
  let end = -1;
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new CorruptFileError('the ZIP archive has no central directory: the file is truncated or not a ZIP');
  let count = tail.readUInt16LE(end + 10);
  let size = tail.readUInt32LE(end + 12);
  let directory = tail.readUInt32LE(end + 16);
  if (directory === 0xffffffff || count === 0xffff || size === 0xffffffff) {
    const locator = end - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== 0x07064b50) throw new CorruptFileError('the ZIP64 archive has no ZIP64 locator');
    const record = source.read(Number(tail.readBigUInt64LE(locator + 8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== 0x06064b50) throw new CorruptFileError('the ZIP64 end record is missing');
    count = Number(record.readBigUInt64LE(32));
    size = Number(record.readBigUInt64LE(40));
    directory = Number(record.readBigUInt64LE(48));
  }
  const file = source.read(directory, size);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
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

export function zipEntryData(source: ByteSource, entry: ZipEntry): Buffer {
  const header = source.read(entry.headerOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50) throw new CorruptFileError(`${entry.name}: its local header is damaged`);
  const start = entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const data = source.read(start, entry.compressedSize);
  if (data.length < entry.compressedSize) throw new CorruptFileError(`${entry.name}: the file ends ${entry.compressedSize - data.length} bytes early`);
  if (entry.method === 0) return data;
  if (entry.method === 8) return inflateRawSync(data);
  throw new CorruptFileError(`${entry.name}: compression method ${entry.method} is not supported`);
}
