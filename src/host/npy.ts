// NumPy .npy files (format version 1.0/2.0) for int8, uint8, int32 and float32 arrays:
// how `sparrow run` takes inputs and writes outputs.
import { FormatError } from '../formats/errors.js';

export type NpyArray = Int8Array | Uint8Array | Int32Array | Float32Array;

const DESCRS: Record<string, { type: new (b: ArrayBuffer) => NpyArray; size: number }> = {
  '|i1': { type: Int8Array, size: 1 },
  '|u1': { type: Uint8Array, size: 1 },
  '<i4': { type: Int32Array, size: 4 },
  '<f4': { type: Float32Array, size: 4 },
};

function descrOf(data: NpyArray): string {
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int32Array) return '<i4';
  return '<f4';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpy(bytes: Uint8Array): { data: NpyArray; shape: number[] } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new FormatError('not a .npy file (bad magic)', 0);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.length) throw new FormatError('.npy header runs past the end of the file', 8);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new FormatError(`unreadable .npy header: ${header.trim()}`, start);
  const kind = DESCRS[descr];
  if (!kind) throw new FormatError(`.npy dtype ${descr} is not supported (int8, uint8, int32, float32)`, start);
  if (fortran === 'True') throw new FormatError('Fortran-ordered .npy arrays are not supported', start);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new FormatError(`bad .npy shape (${shapeText})`, start);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  if (offset + count * kind.size > bytes.length) throw new FormatError(`.npy data is shorter than shape (${shape}) needs`, offset);
  const copy = new Uint8Array(bytes.subarray(offset, offset + count * kind.size)); // owns its buffer (a Node Buffer's slice would not)
  return { data: new kind.type(copy.buffer), shape };
}

export function writeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + head.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + head.length);
  return out;
}
