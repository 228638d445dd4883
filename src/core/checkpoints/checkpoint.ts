// A checkpoint's layers and weights, read without PyTorch or TF.js: torch.save's ZIP format and its
// legacy (pre-1.6) pickle stream, whether a state_dict, a dict that holds one (CNN Lab's last.pt) or a
// whole pickled nn.Module; and TF.js's model.json with its weight files. Nothing in them is run.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isDict, isTensor, type PickleDict, type PickleTensor, type PickleValue, unpickle } from './pickle';
import { type ByteSource, CorruptFileError, fileSource, isZip, zipEntries, zipEntryData } from './zip';

export interface WeightStats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface CheckpointTensor {
  /** The state_dict key (conv1.weight) or TF.js weight name (conv2d/kernel). */
  name: string;
  shape: number[];
  dtype: string;
  count: number;
  /** The values in row-major order, as floats (integers converted). */
  values(): Float64Array;
}

export interface CheckpointLayer {
  name: string;
  /** What its parameters' shapes say it is: Conv2d, Linear, BatchNorm, or the generic "layer". */
  kind: string;
  parameters: CheckpointTensor[];
}

export interface Checkpoint {
  path: string;
  format: 'PyTorch' | 'PyTorch (legacy)' | 'TF.js';
  layers: CheckpointLayer[];
  /** Other scalars saved with the weights (epoch, best loss), as "name: value". */
  notes: string[];
  /** Where a conv kernel's axes are: PyTorch's out × in × h × w, or TF.js's h × w × in × out. */
  kernelLayout: 'oihw' | 'hwio';
  /**
   * What torch.load gives, where that is not the state_dict itself: a dict that holds it under a key
   * (`{'epoch': 3, 'state_dict': …}`, with its other keys), or a whole pickled nn.Module.
   */
  holder?: { under: string; keys: string[] } | { module: true; className?: string };
}

/** Where each engine leaves a run's checkpoints, best first: the torch engine's files, the tfjs engine's folders. */
export const runCheckpointFiles = ['best.pt', join('best', 'model.json'), 'last.pt', join('last', 'model.json'), 'epoch-1.pt', join('epoch-1', 'model.json'), 'init.pt', join('init', 'model.json')];

const runCheckpointRoles: Record<string, string> = { best: 'lowest validation loss', last: 'last epoch', 'epoch-1': 'after epoch 1', init: 'before training' };

/** A checkpoint's name as a user knows it: best.pt, or a TF.js model's folder with its model.json (init/model.json). */
export function checkpointName(path: string): string {
  return basename(path) === 'model.json' ? join(basename(dirname(path)), 'model.json') : basename(path);
}

/** What a run's checkpoint holds, by its name (best.pt, init/model.json): "before training"; undefined for other files. */
export function runCheckpointRole(path: string): string | undefined {
  const stem = basename(path) === 'model.json' ? basename(dirname(path)) : basename(path, '.pt');
  return runCheckpointRoles[stem];
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const elementSize: Record<string, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 };

/**
 * A checkpoint's tensors by name and shape; their values are read when asked for. torch.save's ZIP
 * format is read by range (its directory and data.pkl, then each tensor's entry when its values are
 * wanted), so that a 2 GB checkpoint's keys and shapes cost its directory, not its size.
 */
export function readCheckpoint(path: string): Checkpoint {
  const start = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, start, 0, 4, 0);
    if (!path.endsWith('.json') && isZip(start)) return readTorchZip(path, fileSource(fd));
  } catch (error) {
    throw readError(path, error);
  } finally {
    closeSync(fd);
  }
  const file = readFileSync(path);
  try {
    if (path.endsWith('.json')) return readTfjs(path, file);
    if (file[0] === 0x80) return readTorchLegacy(path, file);
  } catch (error) {
    throw readError(path, error);
  }
  throw new CheckpointError(`${path} is neither a PyTorch checkpoint (a ZIP or pickle written by torch.save) nor a TF.js model.json`);
}

function readError(path: string, error: unknown): unknown {
  if (error instanceof CorruptFileError || error instanceof RangeError || error instanceof SyntaxError) {
    return new CheckpointError(`${path} cannot be read: ${error instanceof RangeError ? 'the file is truncated' : error.message}`);
  }
  return error;
}

function readTorchZip(path: string, source: ByteSource): Checkpoint {
  const entries = zipEntries(source);
  const pickle = [...entries.keys()].find((name) => name === 'data.pkl' || name.endsWith('/data.pkl'));
  if (!pickle) throw new CorruptFileError('the ZIP has no data.pkl: it was not written by torch.save');
  const prefix = pickle.slice(0, -'data.pkl'.length);
  const { value } = unpickle(zipEntryData(source, entries.get(pickle) as NonNullable<ReturnType<typeof entries.get>>));
  // A tensor's entry is read when its values are asked for, from the file as it is then.
  const storage = (key: string) => {
    const entry = entries.get(`${prefix}data/${key}`);
    if (!entry) throw new CorruptFileError(`storage ${key} is missing from the archive`);
    const fd = openSync(path, 'r');
    try {
      return zipEntryData(fileSource(fd), entry);
    } finally {
      closeSync(fd);
    }
  };
  return torchCheckpoint(path, 'PyTorch', value, storage);
}

/** The pre-1.6 stream: magic number, protocol version, system info, the object, its storage keys, then each storage as a count and its bytes. */
function readTorchLegacy(path: string, file: Buffer): Checkpoint {
  let at = 0;
  const next = () => {
    const { value, end } = unpickle(file, at);
    at = end;
    return value;
  };
  const magic = next();
  if (magic !== 0x1950a86a20f9469cfc6cn) throw new CorruptFileError('the pickle is not a torch.save checkpoint (wrong magic number)');
  next(); // protocol version
  next(); // system info
  const value = next();
  const keys = next();
  const storages = new Map<string, Buffer>();
  const dtypes = new Map<string, string>();
  collectTensors(value, (tensor) => dtypes.set(tensor.storage.key, tensor.storage.dtype));
  for (const key of Array.isArray(keys) ? keys.map(String) : []) {
    if (at + 8 > file.length) throw new CorruptFileError(`storage ${key} is missing: the file is truncated`);
    const count = Number(file.readBigInt64LE(at));
    const bytes = count * (elementSize[dtypes.get(key) ?? 'float32'] ?? 4);
    if (at + 8 + bytes > file.length) throw new CorruptFileError(`storage ${key} ends ${at + 8 + bytes - file.length} bytes past the end of the file: it is truncated`);
    storages.set(key, file.subarray(at + 8, at + 8 + bytes));
    at += 8 + bytes;
  }
  return torchCheckpoint(path, 'PyTorch (legacy)', value, (key) => {
    const bytes = storages.get(key);
    if (!bytes) throw new CorruptFileError(`storage ${key} is missing`);
    return bytes;
  });
}

function torchCheckpoint(path: string, format: Checkpoint['format'], value: PickleValue, storage: (key: string) => Buffer): Checkpoint {
  const { tensors, holder } = stateDict(value);
  if (!tensors.length) throw new CheckpointError(`${path} holds no tensors: it is not a model's weights`);
  const parameters = tensors.map(([name, tensor]) => torchTensor(name, tensor, storage));
  const notes = isDict(value)
    ? [...value.entries].flatMap(([key, v]) => (typeof key === 'string' && (typeof v === 'number' || typeof v === 'string') ? [`${key}: ${v}`] : []))
    : [];
  return { path, format, layers: groupLayers(parameters, '.'), notes, kernelLayout: 'oihw', ...(holder ? { holder } : {}) };
}

/** The model's tensors by name: the dict itself, the dict saved under model/state_dict, or a pickled module's parameters; and what held them. */
function stateDict(value: PickleValue): { tensors: [string, PickleTensor][]; holder?: Checkpoint['holder'] } {
  if (isDict(value)) {
    const direct = [...value.entries].filter((entry): entry is [string, PickleTensor] => typeof entry[0] === 'string' && isTensor(entry[1]));
    if (direct.length) return { tensors: direct };
    for (const key of ['model_state_dict', 'state_dict', 'model', 'net', 'module']) {
      const inner = value.entries.get(key);
      if (inner !== undefined) {
        const found = stateDict(inner);
        if (found.tensors.length) return { tensors: found.tensors, holder: { under: key, keys: [...value.entries.keys()].map(String) } };
      }
    }
    return { tensors: [] };
  }
  const found: [string, PickleTensor][] = [];
  moduleTensors(value, '', found);
  const className = pickledClass(value);
  return { tensors: found, holder: { module: true, ...(className ? { className } : {}) } };
}

/** The class a pickled object was made of: `Net` of `__main__.Net.__new__`, or of copyreg's `__newobj__(Net)` and `_reconstructor(Net, …)`. */
function pickledClass(value: PickleValue): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value.kind !== 'call') return undefined;
  const callable = value.callable;
  const global = (v: PickleValue | undefined) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && v.kind === 'global' ? v : undefined);
  const named = global(callable);
  if (named && named.module !== 'copyreg' && named.module !== 'copy_reg') return named.name;
  return global(value.args[0])?.name;
}

/** A pickled nn.Module: its state holds _parameters, _buffers and _modules, each an OrderedDict. */
function moduleTensors(value: PickleValue, prefix: string, out: [string, PickleTensor][]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value.kind !== 'call' || !isDict(value.state ?? null)) return;
  const state = value.state as PickleDict;
  for (const field of ['_parameters', '_buffers']) {
    const dict = state.entries.get(field);
    if (isDict(dict)) for (const [name, tensor] of dict.entries) if (typeof name === 'string' && isTensor(tensor)) out.push([`${prefix}${name}`, tensor]);
  }
  const modules = state.entries.get('_modules');
  if (isDict(modules)) for (const [name, child] of modules.entries) moduleTensors(child, `${prefix}${String(name)}.`, out);
}

function collectTensors(value: PickleValue, visit: (tensor: PickleTensor) => void, depth = 0): void {
  if (depth > 64 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return;
  if (Array.isArray(value)) return value.forEach((v) => collectTensors(v, visit, depth + 1));
  switch (value.kind) {
    case 'tensor':
      return visit(value);
    case 'dict':
      return value.entries.forEach((v) => collectTensors(v, visit, depth + 1));
    case 'tuple':
      return value.items.forEach((v) => collectTensors(v, visit, depth + 1));
    case 'call':
      value.args.forEach((v) => collectTensors(v, visit, depth + 1));
      if (value.state !== undefined) collectTensors(value.state, visit, depth + 1);
  }
}

function torchTensor(name: string, tensor: PickleTensor, storage: (key: string) => Buffer): CheckpointTensor {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  return {
    name,
    shape: tensor.shape,
    dtype: tensor.storage.dtype,
    count,
    values: () => {
      const bytes = storage(tensor.storage.key);
      const size = elementSize[tensor.storage.dtype] ?? 4;
      // Most saved tensors are contiguous: their values are one run of the storage.
      const rowMajor = tensor.shape.map((_, d) => tensor.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      if (rowMajor.every((stride, d) => stride === tensor.stride[d] || (tensor.shape[d] ?? 0) <= 1)) {
        return decode(bytes.subarray(tensor.offset * size, (tensor.offset + count) * size), tensor.storage.dtype);
      }
      const all = decode(bytes, tensor.storage.dtype);
      const out = new Float64Array(count);
      // Row-major walk over the shape, reading through the tensor's strides (a view need not be contiguous).
      const index = new Array<number>(tensor.shape.length).fill(0);
      for (let i = 0; i < count; i++) {
        let at = tensor.offset;
        for (let d = 0; d < index.length; d++) at += (index[d] ?? 0) * (tensor.stride[d] ?? 0);
        out[i] = all[at] ?? NaN;
        for (let d = index.length - 1; d >= 0; d--) {
          index[d] = (index[d] ?? 0) + 1;
          if ((index[d] ?? 0) < (tensor.shape[d] ?? 0)) break;
          index[d] = 0;
        }
      }
      return out;
    },
  };
}

/** Little-endian bytes of one dtype as floats. */
export function decode(bytes: Uint8Array, dtype: string): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = elementSize[dtype];
  if (!size) throw new CheckpointError(`tensors of type ${dtype} are not supported`);
  const count = Math.floor(bytes.byteLength / size);
  if (dtype === 'float32' && littleEndian) return Float64Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4)));
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    switch (dtype) {
      case 'float32': out[i] = view.getFloat32(at, true); break;
      case 'float64': out[i] = view.getFloat64(at, true); break;
      case 'float16': out[i] = half(view.getUint16(at, true)); break;
      case 'bfloat16': out[i] = new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0] ?? NaN; break;
      case 'int64': out[i] = Number(view.getBigInt64(at, true)); break;
      case 'int32': out[i] = view.getInt32(at, true); break;
      case 'int16': out[i] = view.getInt16(at, true); break;
      case 'int8': out[i] = view.getInt8(at); break;
      default: out[i] = view.getUint8(at); // uint8, bool
    }
  }
  return out;
}

function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** TF.js's model.json: the weights manifest names each weight, its shape and dtype, in the order of the binary files. */
function readTfjs(path: string, file: Buffer): Checkpoint {
  const model = JSON.parse(file.toString('utf8')) as { weightsManifest?: { paths?: unknown; weights?: unknown }[] };
  if (!Array.isArray(model.weightsManifest)) throw new CheckpointError(`${path} has no weightsManifest: it is not a TF.js model.json`);
  const parameters: CheckpointTensor[] = [];
  for (const group of model.weightsManifest) {
    const paths = Array.isArray(group.paths) ? group.paths.map(String) : [];
    const bytes = Buffer.concat(paths.map((p) => readFileSync(join(dirname(path), p))));
    let at = 0;
    for (const weight of Array.isArray(group.weights) ? (group.weights as { name?: unknown; shape?: unknown; dtype?: unknown }[]) : []) {
      const shape = Array.isArray(weight.shape) ? weight.shape.map(Number) : [];
      const dtype = typeof weight.dtype === 'string' ? weight.dtype : 'float32';
      const count = shape.reduce((a, b) => a * b, 1);
      const length = count * (elementSize[dtype] ?? 4);
      if (at + length > bytes.length) throw new CheckpointError(`${path}: the weight files end before ${String(weight.name)}: they are truncated`);
      const slice = bytes.subarray(at, at + length);
      at += length;
      parameters.push({ name: String(weight.name), shape, dtype, count, values: () => decode(slice, dtype) });
    }
  }
  return { path, format: 'TF.js', layers: groupLayers(parameters, '/'), notes: [], kernelLayout: 'hwio' };
}

/** conv1.weight and conv1.bias → layer conv1, in the order they were saved. */
function groupLayers(parameters: CheckpointTensor[], separator: string): CheckpointLayer[] {
  const layers = new Map<string, CheckpointTensor[]>();
  for (const parameter of parameters) {
    const cut = parameter.name.lastIndexOf(separator);
    const name = cut < 0 ? parameter.name : parameter.name.slice(0, cut);
    layers.set(name, [...(layers.get(name) ?? []), parameter]);
  }
  return [...layers].map(([name, members]) => ({ name, kind: layerKind(members), parameters: members }));
}

function layerKind(parameters: CheckpointTensor[]): string {
  const weight = parameters.find((p) => /(^|[./])(weight|kernel)$/.test(p.name));
  if (parameters.some((p) => p.name.endsWith('running_mean') || p.name.endsWith('moving_mean'))) return 'BatchNorm';
  if (weight?.shape.length === 4) return 'Conv2d';
  if (weight?.shape.length === 2) return 'Linear';
  return 'layer';
}

export function weightStats(values: Float64Array): WeightStats {
  let [sum, min, max] = [0, Infinity, -Infinity];
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length), min, max };
}
