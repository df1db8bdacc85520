// Minimal .npy (NumPy format 1.0) reader/writer for the reference runners:
// little-endian float32/float16/int64/int32/uint8/bool, C order. Headers are written
// the way numpy.save writes them (64-byte aligned), so files are byte-identical to
// what numpy would write for the same array.
import { readFileSync, writeFileSync } from 'node:fs';

const DESCR = {
  float32: '<f4', float16: '<f2', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1', bool: '|b1',
};
const FROM_DESCR = Object.fromEntries(Object.entries(DESCR).map(([k, v]) => [v, k]));
const ARRAY = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array,
  int8: Int8Array, bool: Uint8Array, float16: Uint16Array,
};

export function encodeNpy(dtype, dims, data) {
  const descr = DESCR[dtype];
  if (!descr) throw new Error(`npy: unsupported dtype ${dtype}`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pre = 10; // magic(6) + version(2) + header length(2)
  const pad = 64 - ((pre + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const buf = Buffer.alloc(pre + header.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1; buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, pre, 'latin1');
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([buf, bytes]);
}

export function writeNpy(path, dtype, dims, data) {
  writeFileSync(path, encodeNpy(dtype, dims, data));
}

export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const dtype = FROM_DESCR[descr];
  if (!dtype || fortran !== 'False' || shapeText === undefined) {
    throw new Error(`${path}: unsupported npy header ${header.trim()}`);
  }
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const body = buf.subarray(start + hlen);
  const copy = new Uint8Array(body.length);
  copy.set(body);
  const Ctor = ARRAY[dtype];
  return { dtype, dims, data: new Ctor(copy.buffer, 0, body.length / Ctor.BYTES_PER_ELEMENT) };
}
