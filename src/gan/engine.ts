/**
 * Chooses the TensorFlow.js backend once per process, best first: native CUDA, native CPU, wasm
 * with our gradient kernels, then the pure-JS `cpu` backend. The native packages are optional
 * dependencies (their install downloads libtensorflow), so they are imported by a computed
 * specifier: TypeScript needs no types for them and a missing package is just a skipped choice.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GanforgeError } from '../errors.js';
import { registerWasmKernels } from './kernels/index.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const backendNames: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface Engine {
  backend: BackendName;
  /** What was loaded and how, for the run record and the worker's start-up log. */
  detail: string;
  tf: typeof tf;
}

export type EngineLog = (msg: string, fields?: object) => void;

const nativePackages = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** The properties tfjs-node's backend sets once libtensorflow is loaded. */
interface NativeBackendFlags {
  isGPUPackage?: boolean;
  isUsingGpuDevice?: boolean;
}

let current: Promise<Engine> | undefined;

/**
 * Loads and activates a backend. `auto` takes the best one that loads; a named backend that
 * cannot load throws GANFORGE_ERR_BACKEND_UNAVAILABLE. Idempotent: later calls return the first
 * call's engine whatever they ask for, because kernels and backends are process-global.
 */
export function initEngine(choice: 'auto' | BackendName, log?: EngineLog): Promise<Engine> {
  current ??= chooseBackend(choice, log ?? (() => {})).catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

async function chooseBackend(choice: 'auto' | BackendName, log: EngineLog): Promise<Engine> {
  if (choice !== 'auto') return activate(choice);

  for (const name of backendNames) {
    try {
      const engine = await activate(name);
      log('compute backend ready', { backend: engine.backend, detail: engine.detail });
      return engine;
    } catch (err) {
      log('compute backend unavailable', { backend: name, reason: (err as Error).message });
    }
  }
  throw new GanforgeError('GANFORGE_ERR_BACKEND_UNAVAILABLE', 'no TensorFlow.js backend loads');
}

async function activate(name: BackendName): Promise<Engine> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
      case 'tensorflow':
        return await activateNative(name);
      case 'wasm':
        return await activateWasm();
      case 'cpu':
        await setBackend('cpu');
        return { backend: 'cpu', detail: 'tfjs cpu (pure JavaScript)', tf };
    }
  } catch (err) {
    if (err instanceof GanforgeError) throw err;
    throw new GanforgeError(
      'GANFORGE_ERR_BACKEND_UNAVAILABLE',
      `backend ${name} cannot be loaded: ${(err as Error).message}`,
      { backend: name },
    );
  }
}

async function activateNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<Engine> {
  const specifier: string = nativePackages[name];
  // Registers the 'tensorflow' backend with the tfjs-core we share; the module itself is unused.
  await import(specifier);
  await setBackend('tensorflow');

  const flags = tf.backend() as unknown as NativeBackendFlags;
  if (name === 'tensorflow') return { backend: name, detail: `${specifier} (native CPU)`, tf };
  const device =
    flags.isUsingGpuDevice === undefined
      ? 'GPU use unknown'
      : flags.isUsingGpuDevice
        ? 'using a GPU'
        : 'no GPU visible, running on CPU';
  return { backend: name, detail: `${specifier} (${device})`, tf };
}

async function activateWasm(): Promise<Engine> {
  // Under Node the wasm binaries are read from disk; resolving them from the package keeps this
  // working from any working directory.
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(path.dirname(entry) + path.sep);
  registerWasmKernels();
  await setBackend('wasm');
  return {
    backend: 'wasm',
    detail: '@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, 1 thread) with ganforge kernels',
    tf,
  };
}

async function setBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * Switches the active backend inside one test process, bypassing the once-per-process rule, so a
 * test can compute a reference on `cpu` and the same op on `wasm`. Tests only.
 */
export async function useBackendForTests(name: 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') {
    await activateWasm();
    return;
  }
  await setBackend('cpu');
}
