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
import { registerSecondOrderGradients } from './kernels/second-order.js';
import { loadThreadedWasm } from './kernels/threaded-wasm.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const backendNames: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface Engine {
  backend: BackendName;
  /** What was loaded and how, for the run record and the worker's start-up log. */
  detail: string;
  tf: typeof tf;
}

export type EngineLog = (msg: string, fields?: object) => void;

export interface EngineOptions {
  /**
   * XNNPACK threads for the wasm backend (default 1). Above 1, the multi-threaded wasm build is
   * loaded by our own loader, since tfjs turns threads off under Node; if that fails the engine
   * logs why and runs on one thread. Pays off only when the cores are otherwise idle.
   */
  wasmThreads?: number;
}

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
export function initEngine(
  choice: 'auto' | BackendName,
  log?: EngineLog,
  options: EngineOptions = {},
): Promise<Engine> {
  const settings = { log: log ?? (() => {}), wasmThreads: options.wasmThreads ?? 1 };
  current ??= chooseBackend(choice, settings).catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

interface Settings {
  log: EngineLog;
  wasmThreads: number;
}

async function chooseBackend(choice: 'auto' | BackendName, settings: Settings): Promise<Engine> {
  const { log } = settings;
  if (choice !== 'auto') return activate(choice, settings);

  for (const name of backendNames) {
    try {
      const engine = await activate(name, settings);
      log('compute backend ready', { backend: engine.backend, detail: engine.detail });
      return engine;
    } catch (err) {
      log('compute backend unavailable', { backend: name, reason: (err as Error).message });
    }
  }
  throw new GanforgeError('GANFORGE_ERR_BACKEND_UNAVAILABLE', 'no TensorFlow.js backend loads');
}

async function activate(name: BackendName, settings: Settings): Promise<Engine> {
  registerSecondOrderGradients();
  try {
    switch (name) {
      case 'tensorflow-gpu':
      case 'tensorflow':
        return await activateNative(name);
      case 'wasm':
        return await activateWasm(settings);
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

async function activateWasm(settings?: Settings): Promise<Engine> {
  // Under Node the wasm binaries are read from disk; resolving them from the package keeps this
  // working from any working directory.
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(path.dirname(entry) + path.sep);
  registerWasmKernels();

  let threads = 1;
  const wanted = settings?.wasmThreads ?? 1;
  if (wanted > 1 && tf.getBackend() !== 'wasm') {
    try {
      threads = await loadThreadedWasm(wanted);
    } catch (err) {
      settings?.log('multi-threaded wasm unavailable, using 1 thread', {
        reason: (err as Error).message,
      });
    }
  }
  if (threads === 1) await setBackend('wasm');
  const build = threads > 1 ? `${threads} threads` : '1 thread';
  return {
    backend: 'wasm',
    detail: `@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, ${build}) with ganforge kernels`,
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
  registerSecondOrderGradients();
  if (name === 'wasm') {
    await activateWasm();
    return;
  }
  await setBackend('cpu');
}
