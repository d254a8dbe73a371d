//! The seeded random-number generator shared by initialisation and
//! shuffling.
//!
//! The generator is xoshiro128** seeded through SplitMix64. It uses only
//! 32-bit wrapping arithmetic per draw, so the TypeScript engine reproduces
//! every draw exactly, on every platform.

/// A xoshiro128** generator.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u32; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// Creates a generator whose state comes from two SplitMix64 outputs
    /// started at `seed`.
    pub fn new(seed: u32) -> Self {
        let mut x = u64::from(seed);
        let a = splitmix64(&mut x);
        let b = splitmix64(&mut x);
        Rng {
            s: [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32],
        }
    }

    /// Returns the next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Returns a uniform double in `[0, 1)` built from 53 random bits of
    /// two draws.
    pub fn next_f64(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// Returns a uniform integer in `[0, n)` by rejection sampling, with no
    /// modulo bias.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero.
    pub fn below(&mut self, n: u32) -> u32 {
        assert!(n > 0, "Rng::below needs a positive bound");
        let threshold = n.wrapping_neg() % n;
        loop {
            let r = self.next_u32();
            if r >= threshold {
                return r % n;
            }
        }
    }

    /// Shuffles `items` in place with Fisher-Yates, from the last entry down.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below((i + 1) as u32) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
    }

    #[test]
    fn different_seeds_differ() {
        let a: Vec<u32> = {
            let mut r = Rng::new(1);
            (0..8).map(|_| r.next_u32()).collect()
        };
        let b: Vec<u32> = {
            let mut r = Rng::new(2);
            (0..8).map(|_| r.next_u32()).collect()
        };
        assert_ne!(a, b);
    }

    #[test]
    fn next_f64_stays_in_unit_interval() {
        let mut r = Rng::new(7);
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let u = r.next_f64();
            assert!((0.0..1.0).contains(&u), "{u} is outside [0, 1)");
            sum += u;
        }
        // The mean of 10,000 uniforms has a standard deviation of 0.0029.
        assert!((sum / 10_000.0 - 0.5).abs() < 0.015);
    }

    #[test]
    fn below_covers_every_value() {
        let mut r = Rng::new(3);
        let mut seen = [0usize; 7];
        for _ in 0..7_000 {
            seen[r.below(7) as usize] += 1;
        }
        for (value, &count) in seen.iter().enumerate() {
            assert!(count > 850, "value {value} drawn only {count} times");
            assert!(count < 1150, "value {value} drawn {count} times");
        }
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Rng::new(9);
        let mut v: Vec<usize> = (0..257).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..257).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..257).collect::<Vec<_>>());
    }
}
