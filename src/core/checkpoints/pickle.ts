// A Python pickle read as data, never run: globals stay names, calls stay records. Only the calls
// torch.save emits for tensors are understood (_rebuild_tensor_v2, _rebuild_parameter, OrderedDict),
// so a checkpoint can be inspected without importing anything, in an untrusted workspace too.
import { CorruptFileError } from './zip';

export interface PickleGlobal {
  kind: 'global';
  module: string;
  name: string;
}
/** A call the reader does not perform: the callable's name, its arguments, and any state set on it. */
export interface PickleCall {
  kind: 'call';
  callable: PickleValue;
  args: PickleValue[];
  state?: PickleValue;
}
/** A persistent id from torch: a storage, which the container's own records hold. */
export interface PickleStorage {
  kind: 'storage';
  dtype: string;
  key: string;
}
export interface PickleTensor {
  kind: 'tensor';
  storage: PickleStorage;
  offset: number;
  shape: number[];
  stride: number[];
}
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | { kind: 'tuple'; items: PickleValue[] }
  | { kind: 'dict'; entries: Map<PickleValue, PickleValue> }
  | PickleGlobal
  | PickleCall
  | PickleStorage
  | PickleTensor;

export type PickleDict = { kind: 'dict'; entries: Map<PickleValue, PickleValue> };

const isKind = <K extends string>(value: PickleValue | undefined, kind: K): value is Extract<PickleValue, { kind: K }> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && (value as { kind?: unknown }).kind === kind;
export const isDict = (value: PickleValue | undefined): value is PickleDict => isKind(value, 'dict');
export const isTensor = (value: PickleValue | undefined): value is PickleTensor => isKind(value, 'tensor');

/** torch.FloatStorage → float32, and the other storage types torch.save names. */
const storageTypes: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const asList = (value: PickleValue | undefined): PickleValue[] => (Array.isArray(value) ? value : isKind(value, 'tuple') ? value.items : []);
const asNumbers = (value: PickleValue | undefined): number[] => asList(value).map((v) => Number(v));

/** Reads one pickle starting at `offset`; returns the value and where the pickle ended (legacy files hold several). */
export function unpickle(bytes: Uint8Array, offset = 0): { value: PickleValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let at = offset;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new CorruptFileError(`the pickle ends early, at byte ${bytes.length}: the file is truncated`);
  };
  const u8 = () => (need(1), bytes[at++] ?? 0);
  const u16 = () => (need(2), (at += 2), view.getUint16(at - 2, true));
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const i32 = () => (need(4), (at += 4), view.getInt32(at - 4, true));
  const raw = (n: number) => (need(n), bytes.subarray((at += n) - n, at));
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw new CorruptFileError('the pickle ends inside a text line');
    const value = text.decode(bytes.subarray(at, end));
    at = end + 1;
    return value;
  };
  const pop = () => {
    if (!stack.length) throw new CorruptFileError(`the pickle pops an empty stack at byte ${at}`);
    return stack.pop() as PickleValue;
  };
  const popMark = () => {
    const mark = marks.pop();
    if (mark === undefined) throw new CorruptFileError(`the pickle has no mark at byte ${at}`);
    return stack.splice(mark);
  };
  const top = () => stack[stack.length - 1];
  const setItems = (target: PickleValue | undefined, items: PickleValue[]) => {
    if (!isDict(target)) return; // state for an object the reader keeps as a record
    for (let i = 0; i + 1 < items.length; i += 2) target.entries.set(items[i] ?? null, items[i + 1] ?? null);
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80: u8(); break; // PROTO
      case 0x95: raw(8); break; // FRAME
      case 0x2e: return { value: pop(), end: at }; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP: a tuple memoized while its items were written, pushed again by BINGET
      case 0x31: popMark(); break; // POP_MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        const digits = raw(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(digits[i] ?? 0);
        if (n && (digits[n - 1] ?? 0) & 0x80) value -= 1n << BigInt(8 * n);
        stack.push(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(at, false)); at += 8; break; // BINFLOAT (big-endian)
      case 0x58: stack.push(text.decode(raw(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(raw(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(view.getBigUint64(at, true)); at += 8; stack.push(text.decode(raw(n))); break; } // BINUNICODE8
      case 0x55: stack.push(text.decode(raw(u8()))); break; // SHORT_BINSTRING
      case 0x54: stack.push(text.decode(raw(i32()))); break; // BINSTRING
      case 0x43: stack.push(raw(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(raw(u32())); break; // BINBYTES
      case 0x7d: stack.push({ kind: 'dict', entries: new Map() }); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
      case 0x74: stack.push({ kind: 'tuple', items: popMark() }); break; // TUPLE
      case 0x85: stack.push({ kind: 'tuple', items: [pop()] }); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push({ kind: 'tuple', items: [pop(), b] }); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push({ kind: 'tuple', items: [pop(), b, c] }); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const items = popMark(); const dict: PickleDict = { kind: 'dict', entries: new Map() }; setItems(dict, items); stack.push(dict); break; } // DICT
      case 0x71: memo.set(u8(), top() ?? null); break; // BINPUT
      case 0x72: memo.set(u32(), top() ?? null); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top() ?? null); break; // MEMOIZE
      case 0x68: stack.push(memo.get(u8()) ?? null); break; // BINGET
      case 0x6a: stack.push(memo.get(u32()) ?? null); break; // LONG_BINGET
      case 0x63: { const module = line(); stack.push({ kind: 'global', module, name: line() }); break; } // GLOBAL
      case 0x93: { const name = String(pop()); stack.push({ kind: 'global', module: String(pop()), name }); break; } // STACK_GLOBAL
      case 0x61: { const item = pop(); const list = top(); if (Array.isArray(list)) list.push(item); break; } // APPEND
      case 0x65: { const items = popMark(); const list = top(); if (Array.isArray(list)) list.push(...items); break; } // APPENDS
      case 0x73: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x52: { const args = asList(pop()); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = asList(pop()); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: { // BUILD
        const state = pop();
        const target = top();
        if (isKind(target, 'call')) target.state = state;
        break;
      }
      default:
        throw new CorruptFileError(`pickle opcode 0x${opcode.toString(16)} at byte ${at - 1} is not one torch.save writes`);
    }
  }
}

/** ('storage', torch.FloatStorage, key, location, numel[, view]) → a storage record. */
function persistent(id: PickleValue): PickleValue {
  const [tag, type, key] = asList(id);
  if (tag !== 'storage' || !isKind(type, 'global')) throw new CorruptFileError('a persistent id that is not a torch storage');
  return { kind: 'storage', dtype: storageTypes[type.name] ?? type.name, key: String(key) };
}

function call(callable: PickleValue, args: PickleValue[]): PickleValue {
  if (isKind(callable, 'global')) {
    const name = `${callable.module}.${callable.name}`;
    if (name === 'torch._utils._rebuild_tensor_v2' || name === 'torch._utils._rebuild_tensor') {
      const [storage, offset, shape, stride] = args;
      if (!isKind(storage, 'storage')) throw new CorruptFileError('a tensor without its storage');
      return { kind: 'tensor', storage, offset: Number(offset), shape: asNumbers(shape), stride: asNumbers(stride) };
    }
    if (name === 'torch._utils._rebuild_parameter' || name === 'torch._utils._rebuild_parameter_with_state') return args[0] ?? null;
    if (name === 'collections.OrderedDict') return { kind: 'dict', entries: new Map() };
  }
  return { kind: 'call', callable, args };
}
