import { describe, expect, it } from 'vitest';
import { Rng } from '../ts/js/rng';

/** Draws of the Rust engine's `Rng::new(seed)` (crates/core/src/rng.rs):
 * five `next_u32`, one `next_f64`, five `below(7 + seed % 5)`, then a
 * shuffle of 0..9. */
const RUST_DRAWS = [
  {
    seed: 0,
    u32: [3737715805, 2584255861, 2876756834, 3286328325, 1553311962],
    f64: 0.37839700847261126,
    below: [3, 1, 4, 5, 1],
    shuffled: [1, 3, 9, 5, 0, 4, 7, 8, 6, 2],
  },
  {
    seed: 1,
    u32: [1695105466, 1423115009, 634581793, 1068227753, 716759206],
    f64: 0.9747467330065595,
    below: [2, 5, 0, 4, 5],
    shuffled: [2, 3, 1, 9, 0, 5, 4, 7, 6, 8],
  },
  {
    seed: 42,
    u32: [1776835114, 4165204688, 17111135, 2317295270, 2792088233],
    f64: 0.5947962007269413,
    below: [8, 6, 5, 0, 5],
    shuffled: [0, 2, 8, 5, 6, 1, 3, 9, 7, 4],
  },
  {
    seed: 4294967295,
    u32: [331202089, 2303545133, 2732085799, 1755962312, 20464611],
    f64: 0.10151250680420831,
    below: [3, 5, 2, 3, 5],
    shuffled: [3, 9, 0, 6, 1, 4, 7, 2, 8, 5],
  },
];

const MASK_32 = 0xffffffffn;
const MASK_64 = (1n << 64n) - 1n;

/** xoshiro128** seeded by SplitMix64, written from `docs/semantics.md`
 * with BigInt arithmetic, as an independent reference. */
function* referenceStream(seed: number): Generator<number> {
  let x = BigInt(seed);
  const splitMix = () => {
    x = (x + 0x9e3779b97f4a7c15n) & MASK_64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    return z ^ (z >> 31n);
  };
  const a = splitMix();
  const b = splitMix();
  const s = [a & MASK_32, a >> 32n, b & MASK_32, b >> 32n];
  const rotl = (v: bigint, k: bigint) => ((v << k) | (v >> (32n - k))) & MASK_32;
  for (;;) {
    const result = (rotl((s[1] * 5n) & MASK_32, 7n) * 9n) & MASK_32;
    const t = (s[1] << 9n) & MASK_32;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    yield Number(result);
  }
}

describe('Rng', () => {
  it.each(RUST_DRAWS)('seed $seed reproduces the Rust stream', (expected) => {
    const rng = new Rng(expected.seed);
    expect(Array.from({ length: 5 }, () => rng.nextU32())).toEqual(expected.u32);
    expect(rng.nextF64()).toBe(expected.f64);
    const bound = 7 + (expected.seed % 5);
    expect(Array.from({ length: 5 }, () => rng.below(bound))).toEqual(expected.below);
    const items = Uint32Array.from({ length: 10 }, (_, i) => i);
    rng.shuffle(items);
    expect(Array.from(items)).toEqual(expected.shuffled);
  });

  it.each([0, 7, 123456789, 2 ** 31, 2 ** 32 - 1])('seed %i matches a BigInt reference', (seed) => {
    const rng = new Rng(seed);
    const reference = referenceStream(seed);
    for (let i = 0; i < 2000; i++) {
      const expected = reference.next().value;
      const actual = rng.nextU32();
      if (actual !== expected) expect.fail(`draw ${i}: got ${actual}, expected ${expected}`);
    }
  });

  it('nextF64 combines two draws into 53 bits', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const high = a.nextU32() >>> 5;
    const low = a.nextU32() >>> 6;
    expect(b.nextF64()).toBe((high * 2 ** 26 + low) / 2 ** 53);
  });

  it('below stays in range at the extreme bounds', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 100; i++) expect(rng.below(1)).toBe(0);
    for (let i = 0; i < 100; i++) {
      const value = rng.below(2 ** 32 - 1);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(2 ** 32 - 1);
    }
  });

  it('below is uniform over a small bound', () => {
    const rng = new Rng(3);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.below(7)]++;
    // Each count is binomial with mean 10,000 and standard deviation 91.
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('shuffle permutes plain arrays too', () => {
    const items = Array.from({ length: 257 }, (_, i) => i);
    new Rng(9).shuffle(items);
    expect(items).not.toEqual([...items].sort((p, q) => p - q));
    expect([...items].sort((p, q) => p - q)).toEqual(Array.from({ length: 257 }, (_, i) => i));
  });
});
