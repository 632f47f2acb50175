/**
 * NumPy's `.npz` (what `np.savez` writes): a zip archive, stored without compression, of one
 * `.npy` file per array. `.npy` format 1.0: the magic `\x93NUMPY`, version 1.0, a little-endian
 * uint16 header length, an ASCII dict `{'descr': '<f4', 'fortran_order': False, 'shape': (r, c), }`
 * padded with spaces and a newline so the data starts at a multiple of 64 bytes, then the raw
 * little-endian values in C order. `np.load(path)['W0']` reads them back.
 */
import { zipSync } from 'fflate';

export interface NpyArray {
  data: Float32Array | Float64Array | Int32Array;
  shape: number[];
}

const DESCR = (a: NpyArray['data']) => (a instanceof Float32Array ? '<f4' : a instanceof Float64Array ? '<f8' : '<i4');

export function npyBytes(a: NpyArray): Uint8Array {
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (n !== a.data.length) throw new Error(`npy: shape (${a.shape.join(', ')}) holds ${n} values, the data ${a.data.length}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${DESCR(a.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + a.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), 10 + header.length);
  return out;
}

/** The bytes of an `.npz` holding `arrays` (names without `.npy`). Deterministic (fixed zip times). */
export function npzBytes(arrays: Record<string, NpyArray>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  const mtime = new Date(1981, 0, 1);
  for (const [name, a] of Object.entries(arrays)) files[`${name}.npy`] = [npyBytes(a), { level: 0, mtime }];
  return zipSync(files);
}
