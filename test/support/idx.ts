// IDX files (MNIST's format) written by hand: a header of unsigned bytes and big-endian sizes.

/** An IDX file of unsigned bytes with the given shape. */
export function idx(shape: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.writeUInt8(8, 2);
  header.writeUInt8(shape.length, 3);
  shape.forEach((size, i) => header.writeUInt32BE(size, 4 + 4 * i));
  return Buffer.concat([header, data]);
}
