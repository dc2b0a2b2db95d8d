/**
 * The two innermost loops of the metrics as WebAssembly SIMD functions, emitted here as bytes
 * (each module is a few hundred bytes; no toolchain needed). JavaScript numbers are scalar; with
 * two float64 lanes per instruction the product block runs about four times the multiply-adds
 * per second of the same loop in JavaScript (measured on the development machine, one core).
 *
 *   block(a, b, kn, out): for k < kn, C[u][v] += A[k][u] * B[k][v], u, v < 4, where A and B are
 *   packed panels (four float64 per step, byte addresses a and b) and C is 16 float64 at `out`,
 *   overwritten. Registers: C as 8 f64x2 accumulators, a row of B as 2, one A value splatted.
 *
 *   tridiagonalRow(row, v, w, nextV, nextP, pairs, vi, wi, nextVi): the fused pass of
 *   linalg.ts's tridiagonalisation over 2 * pairs entries of one matrix row: row[j] -= vi w[j]
 *   + wi v[j], then nextP[j] += row[j] nextVi, returning sum_j row[j] nextV[j].
 *
 * Encoding: WebAssembly Core Specification 2.0, chapter 5 (binary format) and the fixed-width
 * SIMD opcodes (0xfd prefix).
 */

const op = {
  loop: 0x03,
  block: 0x02,
  voidBlock: 0x40,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Eqz: 0x45,
  f64Add: 0xa0,
  i32: 0x7f,
  f64: 0x7c,
  v128: 0x7b,
  simd: 0xfd,
} as const;

const simd = {
  load: 0,
  load64Splat: 10,
  store: 11,
  f64x2Splat: 20,
  f64x2ExtractLane: 33,
  f64x2Add: 240,
  f64x2Sub: 241,
  f64x2Mul: 242,
} as const;

/** Unsigned LEB128, the integer encoding of the binary format. */
function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? low : low | 0x80);
  } while (rest !== 0);
  return bytes;
}

function name(text: string): number[] {
  return [...leb128(text.length), ...Buffer.from(text, 'utf8')];
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb128(content.length), ...content];
}

/** A SIMD instruction; memory ones take alignment (log2 of 8 bytes) and a byte offset. */
function simdOp(code: number, offset?: number): number[] {
  const memarg = offset === undefined ? [] : [3, ...leb128(offset)];
  return [op.simd, ...leb128(code), ...memarg];
}

function blockBody(): number[] {
  const [a, b, kn, out] = [0, 1, 2, 3];
  const accumulator = (u: number, half: number) => 4 + 2 * u + half;
  const bRow = (half: number) => 12 + half;
  const aValue = 14;
  const get = (local: number) => [op.localGet, local];
  const set = (local: number) => [op.localSet, local];

  const body = [1, 11, op.v128, op.loop, op.voidBlock];
  for (const half of [0, 1])
    body.push(...get(b), ...simdOp(simd.load, 16 * half), ...set(bRow(half)));
  for (let u = 0; u < 4; u++) {
    body.push(...get(a), ...simdOp(simd.load64Splat, 8 * u), ...set(aValue));
    for (const half of [0, 1]) {
      const c = accumulator(u, half);
      body.push(...get(c), ...get(aValue), ...get(bRow(half)));
      body.push(...simdOp(simd.f64x2Mul), ...simdOp(simd.f64x2Add), ...set(c));
    }
  }
  for (const pointer of [a, b])
    body.push(...get(pointer), op.i32Const, 32, op.i32Add, ...set(pointer));
  body.push(...get(kn), op.i32Const, 1, op.i32Sub, op.localTee, kn, op.brIf, 0, op.end);
  for (let u = 0; u < 4; u++) {
    for (const half of [0, 1]) {
      const c = accumulator(u, half);
      body.push(...get(out), ...get(c), ...simdOp(simd.store, 16 * (2 * u + half)));
    }
  }
  return [...body, op.end];
}

function tridiagonalRowBody(): number[] {
  const [row, v, w, nextV, nextP, pairs, vi, wi, nextVi] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [vi2, wi2, nextVi2, sum, x] = [9, 10, 11, 12, 13];
  const get = (local: number) => [op.localGet, local];
  const set = (local: number) => [op.localSet, local];
  const load = (pointer: number) => [...get(pointer), ...simdOp(simd.load, 0)];
  const [mul, add, sub] = [simdOp(simd.f64x2Mul), simdOp(simd.f64x2Add), simdOp(simd.f64x2Sub)];

  const body = [1, 5, op.v128];
  for (const [scalar, lanes] of [
    [vi, vi2],
    [wi, wi2],
    [nextVi, nextVi2],
  ]) {
    body.push(...get(scalar), ...simdOp(simd.f64x2Splat), ...set(lanes));
  }
  body.push(op.block, op.voidBlock, ...get(pairs), op.i32Eqz, op.brIf, 0, op.loop, op.voidBlock);
  body.push(...load(row), ...get(vi2), ...load(w), ...mul, ...get(wi2), ...load(v), ...mul);
  body.push(...add, ...sub, ...set(x));
  body.push(...get(row), ...get(x), ...simdOp(simd.store, 0));
  body.push(...get(sum), ...get(x), ...load(nextV), ...mul, ...add, ...set(sum));
  body.push(...get(nextP), ...load(nextP), ...get(x), ...get(nextVi2), ...mul, ...add);
  body.push(...simdOp(simd.store, 0));
  for (const pointer of [row, v, w, nextV, nextP]) {
    body.push(...get(pointer), op.i32Const, 16, op.i32Add, ...set(pointer));
  }
  body.push(...get(pairs), op.i32Const, 1, op.i32Sub, op.localTee, pairs, op.brIf, 0);
  body.push(op.end, op.end);
  body.push(...get(sum), ...simdOp(simd.f64x2ExtractLane), 0);
  body.push(...get(sum), ...simdOp(simd.f64x2ExtractLane), 1, op.f64Add);
  return [...body, op.end];
}

/** A module of one exported function that imports its memory as env.memory (>= 1 page). */
function compileModule(params: number[], results: number[], exported: string, body: number[]) {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, ...leb128(params.length), ...params, results.length, ...results]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name(exported), 0x00, 0]),
    ...section(10, [1, ...leb128(body.length), ...body]),
  ];
  return new WebAssembly.Module(new Uint8Array(bytes));
}

export function compileBlockKernel(): WebAssembly.Module {
  return compileModule([op.i32, op.i32, op.i32, op.i32], [], 'block', blockBody());
}

export function compileTridiagonalRowKernel(): WebAssembly.Module {
  const params = [op.i32, op.i32, op.i32, op.i32, op.i32, op.i32, op.f64, op.f64, op.f64];
  return compileModule(params, [op.f64], 'tridiagonalRow', tridiagonalRowBody());
}
