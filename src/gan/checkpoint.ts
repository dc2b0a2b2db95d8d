/**
 * Everything a run needs to continue exactly where it stopped, and its file format.
 *
 * File layout (version 1): the 8 ASCII bytes `GANFCKPT`, a uint32 format version, a uint32 header
 * length, the header (UTF-8 JSON), then the payload: the raw bytes of every typed array of the
 * state, little-endian, back to back. The header holds the state with each typed array replaced by
 * a reference to its bytes, and the SHA-256 of the payload, so a truncated or altered file fails
 * to decode instead of resuming with wrong weights.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { ImageShape } from '../data/mnist.js';
import { GanforgeError } from '../errors.js';
import type { RandomState } from './random.js';
import type { OptimizerState } from './slotted-optimizer.js';
import type { TrainingConfig } from './training-config.js';

export interface TensorRecord {
  shape: number[];
  dtype: 'float32';
  data: Float32Array;
}

export interface CheckpointState {
  format: 'ganforge-checkpoint';
  version: 1;
  /** Generator updates done; the run continues with step + 1. */
  step: number;
  seed: number;
  config: TrainingConfig;
  imageShape: ImageShape;
  /** Resolved model options, so a restore rebuilds the same architecture. */
  architecture: { width: number };
  /** Every variable (trainable and state, e.g. batch-norm statistics) by its stable name. */
  generator: Record<string, TensorRecord>;
  discriminator: Record<string, TensorRecord>;
  /** The moving average of G, when the run keeps one (absent in older checkpoints). */
  emaGenerator?: Record<string, TensorRecord>;
  /** Adam or RMSProp state of each network's optimizer. */
  optimizers: { generator: OptimizerState; discriminator: OptimizerState };
  /** The stream that draws each step's z. */
  noiseRng: RandomState;
  /** The stream that draws the gradient penalty's interpolation points (absent in older ones). */
  interpolationRng?: RandomState;
  /** The noise-input streams of generators that draw their own (StyleGAN, StyleGAN2). */
  networkRngs?: { generator?: RandomState; emaGenerator?: RandomState };
  /** The z behind every sample grid, [sampleCount * latentDim]. */
  fixedNoise: Float32Array;
  /** The caller's own state (JSON values and typed arrays), e.g. the data sampler position. */
  meta: Record<string, unknown>;
}

const magic = Buffer.from('GANFCKPT', 'ascii');
const fileVersion = 1;
const prefixBytes = magic.length + 8;
const blobKey = '$blob';

type BlobArray = Float32Array | Int32Array;
interface BlobRef {
  [blobKey]: number;
  dtype: 'float32' | 'int32';
}
interface Header {
  payloadSha256: string;
  blobs: { dtype: 'float32' | 'int32'; length: number }[];
  state: unknown;
}

/** Payload bytes are little-endian; swap on the rare big-endian host. */
function toLittleEndian(bytes: Buffer): Buffer {
  return endianness() === 'BE' ? bytes.swap32() : bytes;
}

export function encodeCheckpoint(state: CheckpointState): Buffer {
  const arrays: BlobArray[] = [];
  const headerState = JSON.stringify(state, (_key, value: unknown) => {
    if (value instanceof Float32Array || value instanceof Int32Array) {
      const ref: BlobRef = {
        [blobKey]: arrays.length,
        dtype: value instanceof Float32Array ? 'float32' : 'int32',
      };
      arrays.push(value);
      return ref;
    }
    return value;
  });
  const payload = Buffer.concat(
    arrays.map((array) =>
      toLittleEndian(
        Buffer.from(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength)),
      ),
    ),
  );
  const header: Header = {
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    blobs: arrays.map((array) => ({
      dtype: array instanceof Float32Array ? 'float32' : 'int32',
      length: array.length,
    })),
    state: JSON.parse(headerState),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(prefixBytes);
  magic.copy(prefix, 0);
  prefix.writeUInt32LE(fileVersion, magic.length);
  prefix.writeUInt32LE(headerBytes.length, magic.length + 4);
  return Buffer.concat([prefix, headerBytes, payload]);
}

function corrupt(reason: string): GanforgeError {
  return new GanforgeError('GANFORGE_ERR_CHECKPOINT_CORRUPT', `checkpoint: ${reason}`, { reason });
}

function readHeader(buf: Buffer): Header {
  if (buf.length < prefixBytes || !buf.subarray(0, magic.length).equals(magic)) {
    throw corrupt('not a ganforge checkpoint (bad magic)');
  }
  const version = buf.readUInt32LE(magic.length);
  if (version !== fileVersion) throw corrupt(`unsupported file version ${version}`);
  const headerLength = buf.readUInt32LE(magic.length + 4);
  if (prefixBytes + headerLength > buf.length) throw corrupt('truncated header');
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(prefixBytes, prefixBytes + headerLength).toString('utf8'));
  } catch {
    throw corrupt('unreadable header');
  }
  const blobsValid =
    Array.isArray(header?.blobs) &&
    header.blobs.every(
      (b) =>
        (b?.dtype === 'float32' || b?.dtype === 'int32') &&
        Number.isSafeInteger(b.length) &&
        b.length >= 0,
    );
  if (!blobsValid || typeof header.payloadSha256 !== 'string') throw corrupt('malformed header');
  return header;
}

export function decodeCheckpoint(buf: Buffer): CheckpointState {
  const header = readHeader(buf);
  const payloadStart = prefixBytes + buf.readUInt32LE(magic.length + 4);
  const payloadLength = header.blobs.reduce((sum, blob) => sum + 4 * blob.length, 0);
  if (buf.length !== payloadStart + payloadLength) {
    throw corrupt(`payload is ${buf.length - payloadStart} bytes, expected ${payloadLength}`);
  }
  const payload = buf.subarray(payloadStart);
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) {
    throw corrupt('payload does not match its SHA-256');
  }

  let offset = 0;
  const arrays = header.blobs.map(({ dtype, length }) => {
    // Copy into a fresh, aligned buffer: the payload offset need not be a multiple of 4.
    const bytes = toLittleEndian(Buffer.from(payload.subarray(offset, offset + 4 * length)));
    offset += 4 * length;
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    return dtype === 'float32' ? new Float32Array(buffer) : new Int32Array(buffer);
  });
  const state = reviveBlobs(header.state, arrays);
  checkStateShape(state);
  return state;
}

function isBlobRef(value: unknown): value is BlobRef {
  return isRecord(value) && Number.isSafeInteger(value[blobKey]);
}

/** Puts the payload's arrays back where encodeCheckpoint took them out. */
function reviveBlobs(value: unknown, arrays: BlobArray[]): unknown {
  if (isBlobRef(value)) {
    const array = arrays[value[blobKey]];
    if (!array) throw corrupt(`missing blob ${value[blobKey]}`);
    return array;
  }
  if (Array.isArray(value)) return value.map((item) => reviveBlobs(item, arrays));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBlobs(v, arrays)]));
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A float32 array whose shape accounts for exactly its length. */
function isShapedArray(value: unknown): value is { shape: number[]; data: Float32Array } {
  if (!isRecord(value) || !(value.data instanceof Float32Array)) return false;
  const shape = value.shape;
  return (
    Array.isArray(shape) &&
    shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    shape.reduce((n: number, d: number) => n * d, 1) === value.data.length
  );
}

function isTensorRecord(value: unknown): value is TensorRecord {
  return isShapedArray(value) && (value as { dtype?: unknown }).dtype === 'float32';
}

function isOptimizerState(value: unknown): value is OptimizerState {
  return (
    isRecord(value) &&
    (value.kind === undefined || value.kind === 'adam' || value.kind === 'rmsprop') &&
    Number.isSafeInteger(value.iterations) &&
    Array.isArray(value.slots) &&
    value.slots.every(
      (slot: unknown) =>
        isShapedArray(slot) && typeof (slot as { name?: unknown }).name === 'string',
    )
  );
}

/** Checks the decoded header describes a whole state, so restore never meets a missing field. */
function checkStateShape(state: unknown): asserts state is CheckpointState {
  if (!isRecord(state)) throw corrupt('no state');
  if (state.format !== 'ganforge-checkpoint' || state.version !== 1) {
    throw corrupt(`unsupported state format ${String(state.format)} v${String(state.version)}`);
  }
  const problems: string[] = [];
  if (!Number.isSafeInteger(state.step) || (state.step as number) < 0) problems.push('step');
  if (!Number.isSafeInteger(state.seed)) problems.push('seed');
  if (!isRecord(state.config)) problems.push('config');
  if (!isRecord(state.imageShape)) problems.push('imageShape');
  if (!isRecord(state.architecture) || !Number.isInteger(state.architecture.width)) {
    problems.push('architecture');
  }
  for (const net of ['generator', 'discriminator', 'emaGenerator'] as const) {
    const weights = state[net];
    if (net === 'emaGenerator' && weights === undefined) continue;
    if (!isRecord(weights) || !Object.values(weights).every(isTensorRecord)) problems.push(net);
  }
  const optimizers = state.optimizers;
  if (!isRecord(optimizers) || !isOptimizerState(optimizers.generator)) {
    problems.push('optimizers.generator');
  }
  if (!isRecord(optimizers) || !isOptimizerState(optimizers.discriminator)) {
    problems.push('optimizers.discriminator');
  }
  if (!isRecord(state.noiseRng)) problems.push('noiseRng');
  if (state.interpolationRng !== undefined && !isRecord(state.interpolationRng)) {
    problems.push('interpolationRng');
  }
  if (state.networkRngs !== undefined && !isRecord(state.networkRngs)) {
    problems.push('networkRngs');
  }
  if (!(state.fixedNoise instanceof Float32Array)) problems.push('fixedNoise');
  if (!isRecord(state.meta)) problems.push('meta');
  if (problems.length > 0) throw corrupt(`malformed fields: ${problems.join(', ')}`);
}
