/**
 * Reader for the IDX format of the MNIST family (LeCun et al., "THE MNIST DATABASE" page):
 * two zero bytes, a dtype byte, a dimension-count byte, one big-endian uint32 per dimension,
 * then the values in row-major order, big-endian. Files may be gzip-compressed as distributed.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { GanforgeError } from '../errors.js';

export type IdxValues =
  Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export type IdxDataType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export interface IdxArray {
  dtype: IdxDataType;
  dims: number[];
  data: IdxValues;
}

const dataTypes: Record<number, { dtype: IdxDataType; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

const gzipMagic = [0x1f, 0x8b];

function corrupt(source: string, reason: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_DATASET_CORRUPT', `${source}: ${reason}`, { source });
}

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === gzipMagic[0] && buf[1] === gzipMagic[1];
}

function decodeValues(body: Buffer, dtype: IdxDataType, count: number): IdxValues {
  if (dtype === 'uint8') return new Uint8Array(body.buffer, body.byteOffset, count).slice();
  if (dtype === 'int8') return new Int8Array(body.buffer, body.byteOffset, count).slice();
  const out =
    dtype === 'int16'
      ? new Int16Array(count)
      : dtype === 'int32'
        ? new Int32Array(count)
        : dtype === 'float32'
          ? new Float32Array(count)
          : new Float64Array(count);
  const bytes = out.BYTES_PER_ELEMENT;
  for (let i = 0; i < count; i++) {
    const at = i * bytes;
    if (dtype === 'int16') out[i] = body.readInt16BE(at);
    else if (dtype === 'int32') out[i] = body.readInt32BE(at);
    else if (dtype === 'float32') out[i] = body.readFloatBE(at);
    else out[i] = body.readDoubleBE(at);
  }
  return out;
}

/** Parses an IDX buffer (plain or gzip). `source` names the file in error messages. */
export function parseIdx(input: Buffer, source = 'IDX buffer'): IdxArray {
  let buf = input;
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      throw corrupt(source, `gzip stream is damaged (${(err as Error).message})`);
    }
  }
  if (buf.length < 4) throw corrupt(source, 'shorter than the 4-byte magic number');
  if (buf[0] !== 0 || buf[1] !== 0)
    throw corrupt(source, 'magic number does not start with 0x0000');

  const type = dataTypes[buf[2]];
  if (!type) throw corrupt(source, `unknown dtype byte 0x${buf[2].toString(16)}`);
  const rank = buf[3];
  if (rank === 0) throw corrupt(source, 'zero dimensions');
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw corrupt(source, 'header is truncated');

  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (buf.length !== expected) {
    throw corrupt(source, `size ${buf.length} bytes, dims [${dims.join(', ')}] need ${expected}`);
  }

  const data = decodeValues(buf.subarray(headerBytes), type.dtype, count);
  return { dtype: type.dtype, dims, data };
}

/** Reads and parses an IDX file; a missing file is GANFORGE_ERR_DATASET_UNAVAILABLE. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new GanforgeError('GANFORGE_ERR_DATASET_UNAVAILABLE', `cannot read ${path}`, {
      path,
      cause: (err as NodeJS.ErrnoException).code,
    });
  }
  return parseIdx(buf, path);
}
