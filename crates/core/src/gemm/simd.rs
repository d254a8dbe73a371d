//! The instruction sets of the crate's own vector loops, detected at run
//! time, and the dispatch that runs a loop body compiled for one of them.

/// An instruction set that the crate's own vector loops (the narrow
/// products, the SGD update) are compiled for, chosen at run time from what
/// the CPU supports. Every loop uses separate multiplies and adds, never
/// FMA, so all instruction sets give the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simd {
    /// The target's baseline, SSE2 on x86-64.
    Baseline,
    /// 256-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 512-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// A loop body that [`Simd::run`] compiles once per instruction set.
/// Implementations mark `run` `#[inline(always)]`, so that it is compiled
/// inside each wrapper with that wrapper's target features.
pub(crate) trait SimdLoop {
    /// The loop's result.
    type Output;

    /// Runs the loop.
    fn run(self) -> Self::Output;
}

impl Simd {
    /// Returns the widest instruction set that the running CPU supports.
    pub(crate) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }

    /// Returns every instruction set that the running CPU supports.
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Simd> {
        let all = [
            Simd::Baseline,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512,
        ];
        all.into_iter().filter(|simd| simd.is_supported()).collect()
    }

    fn is_supported(self) -> bool {
        match self {
            Simd::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
        }
    }

    /// Runs `body` compiled for this instruction set.
    ///
    /// # Panics
    ///
    /// Panics if the running CPU does not support the instruction set.
    #[inline]
    pub(crate) fn run<L: SimdLoop>(self, body: L) -> L::Output {
        assert!(self.is_supported(), "{self:?} is not supported by this CPU");
        match self {
            Simd::Baseline => body.run(),
            // SAFETY: the assert above checked that the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { run_avx2(body) },
            // SAFETY: the assert above checked that the CPU has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { run_avx512(body) },
        }
    }
}

/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<L: SimdLoop>(body: L) -> L::Output {
    body.run()
}

/// # Safety
///
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<L: SimdLoop>(body: L) -> L::Output {
    body.run()
}
