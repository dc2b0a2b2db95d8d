/**
 * Seeded draws of row subsets, so a subset-based score (KID) is reproducible from its seed.
 * Generator: mulberry32 (Tommy Ettinger, 2017), a 32-bit state is enough for index draws.
 */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `size` distinct indices of 0..n-1, by a partial Fisher-Yates shuffle (Knuth, TAOCP 3.4.2). */
export function sampleWithoutReplacement(
  n: number,
  size: number,
  uniform: () => number,
): Int32Array {
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(uniform() * (n - i));
    const t = indices[i];
    indices[i] = indices[j];
    indices[j] = t;
  }
  return indices.subarray(0, size);
}
