/**
 * The seeded random-number generator shared by weight initialisation and
 * shuffling: xoshiro128** (Blackman and Vigna) seeded through SplitMix64.
 * Every draw uses 32-bit wrapping arithmetic, so this class reproduces the
 * Rust engine's stream (`crates/core/src/rng.rs`) bit for bit.
 */

const MASK_64 = (1n << 64n) - 1n;
const TWO_POW_26 = 67_108_864;
const TWO_POW_32 = 4_294_967_296;
const TWO_POW_53 = 9_007_199_254_740_992;

/** Advances a SplitMix64 state and returns the new state and its output. */
function splitMix64(state: bigint): [next: bigint, output: bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return [next, z ^ (z >> 31n)];
}

/** A xoshiro128** generator. The state words are kept as signed 32-bit
 * integers, which V8 stores unboxed. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Creates a generator whose state comes from two SplitMix64 outputs
   * started at `seed`, an integer in [0, 2^32). */
  constructor(seed: number) {
    const [state, a] = splitMix64(BigInt(seed));
    const [, b] = splitMix64(state);
    this.s0 = Number(BigInt.asIntN(32, a));
    this.s1 = Number(BigInt.asIntN(32, a >> 32n));
    this.s2 = Number(BigInt.asIntN(32, b));
    this.s3 = Number(BigInt.asIntN(32, b >> 32n));
  }

  /** Returns the next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const s1 = this.s1;
    const rotated = Math.imul(s1, 5);
    const result = Math.imul((rotated << 7) | (rotated >>> 25), 9) >>> 0;
    const t = s1 << 9;

    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Returns a uniform double in [0, 1) built from 53 bits of two draws. */
  nextF64(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }

  /** Returns a uniform integer in [0, n) for 1 <= n < 2^32, by rejection
   * sampling with no modulo bias. */
  below(n: number): number {
    const threshold = (TWO_POW_32 - n) % n;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) {
        return r % n;
      }
    }
  }

  /** Shuffles `items` (an array or typed array) in place with
   * Fisher-Yates, from the last entry down. */
  shuffle<T>(items: { length: number; [index: number]: T }): void {
    for (let i = items.length - 1; i >= 1; i--) {
      const j = this.below(i + 1);
      const swap = items[i];
      items[i] = items[j];
      items[j] = swap;
    }
  }
}
