/**
 * The part of the WebAssembly JavaScript API that ganforge uses (the metrics' kernels, and the
 * worker telling an engine trap from other errors). Node provides it as globals,
 * but @types/node 20 declares none of it, and the DOM library would bring in browser globals.
 */
declare namespace WebAssembly {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- opaque, as in the spec
  interface Module {}
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  const Module: new (bytes: Uint8Array) => Module;
  const Memory: new (descriptor: { initial: number }) => Memory;
  /** What a trap throws: an abort, an access out of bounds, an unreachable instruction. */
  class RuntimeError extends Error {}
  const Instance: new (
    module: Module,
    imports: Record<string, Record<string, unknown>>,
  ) => Instance;
}
