/**
 * Loads tfjs-backend-wasm's multi-threaded SIMD build under Node, which the package itself never
 * does: its thread-support flag is hard-wired to false under Node, its pthread worker script is
 * handed over as a blob URL (Node's worker_threads cannot load those), and the C++ side sizes its
 * thread pool at start-up as logical cores / 2 (clamped to 1..4), which is 1 on a 2-core machine.
 * Here the worker script is written to a temporary file, the main script is passed by path, and
 * os.cpus is widened while the module starts so the pool gets the threads asked for.
 *
 * This leans on the package's internals (file names, the Emscripten module shape), hence opt-in
 * and checked: any failure is thrown so the engine falls back to the single-thread build.
 */
import { createRequire } from 'node:module';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** The Emscripten module as far as tfjs's BackendWasm and we use it. */
interface ThreadedModule {
  cwrap: (name: string, returns: string | null, args: string[]) => (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
}

type ModuleFactory = (config: object) => Promise<ThreadedModule>;

/**
 * The pthread workers run a plain CommonJS script: they must not inherit this process's Node
 * options (a TypeScript loader, --input-type, --inspect...), which can break or slow them.
 */
class PthreadWorker extends Worker {
  constructor(file: string | URL, options: WorkerOptions = {}) {
    super(file, { ...options, execArgv: [] });
  }
}

/** Same priority tfjs gives 'wasm', so 'auto' ordering elsewhere is unchanged. */
const wasmPriority = 2;

/** Registers the threaded build as the 'wasm' backend and activates it; returns its threads. */
export async function loadThreadedWasm(threads: number): Promise<number> {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const wasmOut = path.join(dist, '..', 'wasm-out');
  const mainScript = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as ModuleFactory;
  const { wasmWorkerContents } = require(
    path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as { wasmWorkerContents: string };

  // The script is stored in a template literal, which turned its "\n" escapes into newlines.
  const workerFile = path.join(
    await mkdtemp(path.join(os.tmpdir(), 'ganforge-wasm-')),
    'pthread.cjs',
  );
  await writeFile(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));

  // Emscripten assigns global.Worker = worker_threads.Worker while the module starts and then
  // spawns its pool with it; the accessor hands it our subclass instead.
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  let module: ThreadedModule;
  try {
    module = await factory({
      locateFile: (file: string) =>
        file.endsWith('.worker.js') ? workerFile : path.join(dist, path.basename(file)),
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    os.cpus = cpus;
    Object.defineProperty(globalThis, 'Worker', {
      configurable: true,
      writable: true,
      value: PthreadWorker,
    });
  }

  // The bindings tfjs's own loader adds before constructing BackendWasm.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', () => new BackendWasm(module as never), wasmPriority);
  if (!(await tf.setBackend('wasm'))) throw new Error('threaded wasm backend failed to start');
  await tf.ready();

  // Idle pool threads must not keep the process alive after its work is done.
  for (const worker of [
    ...(module.PThread?.runningWorkers ?? []),
    ...(module.PThread?.unusedWorkers ?? []),
  ]) {
    worker.unref();
  }
  return getThreadsCount();
}
