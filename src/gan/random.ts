/**
 * A small seeded PRNG whose whole state is four uint32 words, so it can be written to a
 * checkpoint and restored exactly. Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear
 * pseudorandom number generators", 2018), seeded through SplitMix32 so that nearby seeds give
 * unrelated streams. Normals: Box-Muller (Box & Muller 1958), the spare value kept in the state.
 */

export interface RandomState {
  words: [number, number, number, number];
  /** The second normal of the last Box-Muller pair, not yet returned. */
  spareNormal: number | null;
}

/** SplitMix32 step (a 32-bit variant of Steele et al. 2014's SplitMix); returns [next, output]. */
function splitMix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [next, (z ^ (z >>> 16)) >>> 0];
}

function hashString(text: string, start: number): number {
  let h = start >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * A uint32 seed for one named stream of a run (`deriveSeed(seed, 'noise')`), so weight init,
 * data order and noise draw from independent sequences of the one run seed.
 */
export function deriveSeed(seed: number, stream: string): number {
  const mixed = hashString(stream, 0x811c9dc5 ^ (seed >>> 0));
  return splitMix32(mixed ^ Math.floor(seed / 2 ** 32))[1];
}

export class Random {
  private words: [number, number, number, number];
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    let sm = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitMix32(sm);
      sm = next;
      words.push(out);
    }
    this.words = words as [number, number, number, number];
  }

  static fromState(state: RandomState): Random {
    const rng = new Random(0);
    rng.setState(state);
    return rng;
  }

  getState(): RandomState {
    return { words: [...this.words], spareNormal: this.spareNormal };
  }

  setState(state: RandomState): void {
    const { words, spareNormal } = state;
    const valid =
      Array.isArray(words) &&
      words.length === 4 &&
      words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      words.some((w) => w !== 0) &&
      (spareNormal === null || Number.isFinite(spareNormal));
    if (!valid) throw new RangeError('invalid random state');
    this.words = [words[0], words[1], words[2], words[3]];
    this.spareNormal = spareNormal;
  }

  /** xoshiro128**: the next uniformly distributed uint32. */
  nextUint32(): number {
    const s = this.words;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new RangeError(`bad bound ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal N(0, 1) by Box-Muller; draws come in pairs, the second is kept. */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    const u1 = 1 - this.next(); // (0, 1], so log(u1) is finite
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }

  /** `count` standard normals as float32, e.g. a batch of latent vectors z. */
  normals(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
