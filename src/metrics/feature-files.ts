/**
 * Feature and probability files for the metrics: NumPy .npy (2-D, float32 or float64, either
 * byte order, C or Fortran order) and JSON (an array of equal-length rows). Format of .npy:
 * NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays".
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { GanforgeError } from '../errors.js';
import { featureMatrix, assertFeatureMatrix, type FeatureMatrix } from './feature-matrix.js';

const npyMagic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export async function readFeatureFile(path: string): Promise<FeatureMatrix> {
  const info = await stat(path).catch(() => null);
  if (info === null) unreadable(path, 'no such file');
  if (info.isDirectory()) {
    unreadable(path, 'is a directory, not a .npy or .json file of features or probabilities');
  }
  const bytes = await readFile(path);
  switch (extname(path).toLowerCase()) {
    case '.npy':
      return decodeNpy(bytes, path);
    case '.json':
      return decodeJson(bytes, path);
    default:
      return unreadable(path, 'is neither .npy nor .json');
  }
}

function decodeJson(bytes: Buffer, path: string): FeatureMatrix {
  let rows: unknown;
  try {
    rows = JSON.parse(bytes.toString('utf8'));
  } catch {
    return unreadable(path, 'is not valid JSON');
  }
  if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r))) {
    return unreadable(path, 'must hold an array of rows, each an array of numbers');
  }
  return featureMatrix(rows as number[][], path);
}

/** What a .npy header says about the array after it. */
export interface NpyHeader {
  /** NumPy's type string, e.g. `<f8` or `|u1`. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first value. */
  dataStart: number;
}

export function readNpyHeader(bytes: Buffer, path = 'npy'): NpyHeader {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(npyMagic)) {
    return unreadable(path, 'is not a .npy file');
  }
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.subarray(major === 1 ? 10 : 12, dataStart).toString('latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([\d\s,]*)\)/.exec(header);
  if (descr === null || fortran === null || shape === null) {
    return unreadable(path, `has an unreadable header (${header.trim()})`);
  }
  return {
    descr: descr[1],
    fortranOrder: fortran[1] === 'True',
    shape: shape[1]
      .split(',')
      .filter((dim) => dim.trim() !== '')
      .map(Number),
    dataStart,
  };
}

export function decodeNpy(bytes: Buffer, path = 'npy'): FeatureMatrix {
  const header = readNpyHeader(bytes, path);
  const descr = /^([<>|=])f([48])$/.exec(header.descr);
  if (descr === null || header.shape.length !== 2) {
    return unreadable(
      path,
      `must be a 2-D float32 or float64 array, not ${header.descr} [${header.shape}]`,
    );
  }
  const { dataStart } = header;
  const width = Number(descr[2]);
  const bigEndian = descr[1] === '>';
  const [rows, cols] = header.shape;
  if (bytes.length < dataStart + rows * cols * width) return unreadable(path, 'is truncated');

  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart, rows * cols * width);
  const data = new Float64Array(rows * cols);
  for (let k = 0; k < data.length; k++) {
    const value =
      width === 8 ? view.getFloat64(k * 8, !bigEndian) : view.getFloat32(k * 4, !bigEndian);
    // Fortran order stores column after column.
    const target = header.fortranOrder ? (k % rows) * cols + Math.floor(k / rows) : k;
    data[target] = value;
  }
  return assertFeatureMatrix({ rows, cols, data }, path);
}

/** A little-endian float64 .npy (format 1.0) of `x`. */
export function encodeNpy(x: FeatureMatrix): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${x.rows}, ${x.cols}), }`;
  // The data must start at a multiple of 64 bytes; the header ends with a newline.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  npyMagic.copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

function unreadable(path: string, problem: string): never {
  throw new GanforgeError('GANFORGE_ERR_METRIC_INPUT', `${path} ${problem}`, { path });
}
