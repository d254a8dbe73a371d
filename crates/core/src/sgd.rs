//! Stochastic gradient descent with PyTorch's `torch.optim.SGD` semantics,
//! fused into one pass over each parameter tensor.
//!
//! For each element, at a step with learning rate `lr` and momentum `mu`:
//!
//! ```text
//! g = grad + weight_decay * w
//! if mu != 0:
//!     buf = g                                   (first step with mu != 0)
//!     buf = mu * buf + (1 - dampening) * g      (later steps)
//!     g = g + mu * buf   if nesterov   else   buf
//! w = w - lr * g
//! ```
//!
//! The hyperparameters are rounded to f32 before use, as PyTorch does for
//! scalars applied to f32 tensors, and every operation is an f32 multiply or
//! add. No operation is fused into an FMA, so the scalar, AVX2 and AVX-512
//! paths give the same bits.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::gemm::{available_threads, Simd, SimdLoop};

/// Elements below which a tensor is updated on the calling thread alone.
const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// Elements per task when a tensor is updated by several threads. The
/// update is element-wise, so the split never changes a result.
const PARALLEL_CHUNK: usize = 1 << 13;

/// Options of [`Sgd`], named and defaulted as PyTorch's `SGD` arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdOptions {
    /// Learning rate, `>= 0`. Replaced at each step by the schedule when a
    /// 1cycle schedule is used. Default 0.001, as in PyTorch 2.
    pub lr: f64,
    /// Momentum factor, `>= 0`. Replaced at each step by the schedule when
    /// it cycles momentum. Default 0.
    pub momentum: f64,
    /// Dampening of the gradient in the momentum buffer, `>= 0`. Default 0.
    pub dampening: f64,
    /// Whether to use Nesterov momentum, which needs `momentum > 0` and
    /// `dampening == 0`. Default false.
    pub nesterov: bool,
    /// L2 penalty added to the gradient as `weight_decay * w`, `>= 0`.
    /// Default 0.
    pub weight_decay: f64,
}

impl Default for SgdOptions {
    fn default() -> Self {
        SgdOptions {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl SgdOptions {
    /// Checks the options as PyTorch's `SGD` constructor does, with the
    /// same messages plus the fix.
    ///
    /// PyTorch accepts a negative or non-finite `dampening`, and NaN in any
    /// option; these are rejected here too.
    pub fn validate(&self) -> Result<()> {
        self.validate_values()?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::InvalidOption(format!(
                "Nesterov momentum requires a momentum and zero dampening, but got \
                 momentum = {} and dampening = {}: set momentum > 0 and dampening = 0, \
                 or nesterov = false",
                self.momentum, self.dampening
            )));
        }
        Ok(())
    }

    /// Checks every option but the Nesterov rule, which [`crate::fit`]
    /// checks against the momentum that its schedule supplies.
    pub(crate) fn validate_values(&self) -> Result<()> {
        check_non_negative("learning rate", "lr", self.lr)?;
        check_non_negative("momentum value", "momentum", self.momentum)?;
        check_non_negative("dampening value", "dampening", self.dampening)?;
        check_non_negative("weight_decay value", "weight_decay", self.weight_decay)
    }
}

fn check_non_negative(what: &str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(Error::InvalidOption(format!(
        "Invalid {what}: {value}. {name} must be a finite number >= 0"
    )))
}

/// An SGD optimizer for a fixed list of parameter tensors.
///
/// Momentum buffers are allocated at the first step with non-zero momentum,
/// so steps after it allocate nothing.
#[derive(Debug, Clone)]
pub struct Sgd {
    options: SgdOptions,
    sizes: Vec<usize>,
    buffers: Vec<Option<Vec<f32>>>,
    simd: Simd,
}

impl Sgd {
    /// Validates `options` and creates an optimizer for tensors with the
    /// given element counts.
    pub fn new(options: SgdOptions, sizes: &[usize]) -> Result<Self> {
        options.validate()?;
        Ok(Self::from_validated(options, sizes))
    }

    /// Creates an optimizer from options that the caller has checked, for
    /// [`crate::fit`], whose schedule may supply the momentum that Nesterov
    /// needs.
    pub(crate) fn from_validated(options: SgdOptions, sizes: &[usize]) -> Self {
        Sgd {
            options,
            sizes: sizes.to_vec(),
            buffers: vec![None; sizes.len()],
            simd: Simd::detect(),
        }
    }

    /// Returns the options.
    pub fn options(&self) -> &SgdOptions {
        &self.options
    }

    /// Returns the momentum buffer of tensor `index`, or `None` before its
    /// first step with non-zero momentum.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not a tensor of this optimizer.
    pub fn momentum_buffer(&self, index: usize) -> Option<&[f32]> {
        self.buffers[index].as_deref()
    }

    /// Updates tensor `index` in place from its gradient, with this step's
    /// learning rate `lr` and momentum `momentum`. A schedule sets both, and
    /// without one the caller passes the options' values. Weight, gradient
    /// and momentum buffer are each read once, and weight and buffer each
    /// written once. Tensors of at least 32768 elements are split over the
    /// threads of the current rayon pool.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not a tensor of this optimizer or a slice length
    /// differs from the tensor's size.
    pub fn step(&mut self, index: usize, weight: &mut [f32], grad: &[f32], lr: f64, momentum: f64) {
        let size = self.sizes[index];
        assert_eq!(weight.len(), size, "weight length of tensor {index}");
        assert_eq!(grad.len(), size, "gradient length of tensor {index}");
        let params = StepParams {
            lr: lr as f32,
            momentum: momentum as f32,
            dampening_complement: (1.0 - self.options.dampening) as f32,
            weight_decay: self.options.weight_decay as f32,
        };
        let simd = self.simd;
        let parallel = size >= PARALLEL_MIN_ELEMENTS && available_threads() > 1;
        let buffer = if momentum == 0.0 {
            None
        } else {
            Some(&mut self.buffers[index])
        };
        let kind = UpdateKind {
            first: buffer.as_ref().is_some_and(|b| b.is_none()),
            nesterov: self.options.nesterov,
        };
        let buffer = buffer.map(|b| b.get_or_insert_with(|| vec![0.0; size]).as_mut_slice());
        match (buffer, parallel) {
            (None, false) => update(simd, weight, grad, None, params, kind),
            (Some(b), false) => update(simd, weight, grad, Some(b), params, kind),
            (None, true) => {
                let chunks = weight
                    .par_chunks_mut(PARALLEL_CHUNK)
                    .zip(grad.par_chunks(PARALLEL_CHUNK));
                chunks.for_each(|(w, g)| update(simd, w, g, None, params, kind));
            }
            (Some(b), true) => {
                let chunks = weight
                    .par_chunks_mut(PARALLEL_CHUNK)
                    .zip(grad.par_chunks(PARALLEL_CHUNK));
                let chunks = chunks.zip(b.par_chunks_mut(PARALLEL_CHUNK));
                chunks.for_each(|((w, g), b)| update(simd, w, g, Some(b), params, kind));
            }
        }
    }
}

/// The hyperparameters of one step, rounded to f32.
#[derive(Debug, Clone, Copy)]
struct StepParams {
    lr: f32,
    momentum: f32,
    /// `1 - dampening`, computed in f64 and then rounded, as in PyTorch.
    dampening_complement: f32,
    weight_decay: f32,
}

/// The variant of the momentum update that a step makes.
#[derive(Debug, Clone, Copy)]
struct UpdateKind {
    /// The buffer has no value yet and is seeded with the gradient.
    first: bool,
    nesterov: bool,
}

/// Runs the update of one tensor (or a part of it) compiled for `simd`.
fn update(
    simd: Simd,
    w: &mut [f32],
    g: &[f32],
    buf: Option<&mut [f32]>,
    p: StepParams,
    kind: UpdateKind,
) {
    let Some(b) = buf else {
        return simd.run(PlainUpdate { w, g, p });
    };
    match (kind.first, kind.nesterov) {
        (true, true) => simd.run(MomentumUpdate::<true, true> { w, g, b, p }),
        (true, false) => simd.run(MomentumUpdate::<true, false> { w, g, b, p }),
        (false, true) => simd.run(MomentumUpdate::<false, true> { w, g, b, p }),
        (false, false) => simd.run(MomentumUpdate::<false, false> { w, g, b, p }),
    }
}

struct PlainUpdate<'a> {
    w: &'a mut [f32],
    g: &'a [f32],
    p: StepParams,
}

impl SimdLoop for PlainUpdate<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        plain_update(self.w, self.g, self.p);
    }
}

/// The momentum update, with the seeding and Nesterov choices made at
/// compile time so that the loop has no branches.
struct MomentumUpdate<'a, const FIRST: bool, const NESTEROV: bool> {
    w: &'a mut [f32],
    g: &'a [f32],
    b: &'a mut [f32],
    p: StepParams,
}

impl<const FIRST: bool, const NESTEROV: bool> SimdLoop for MomentumUpdate<'_, FIRST, NESTEROV> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        momentum_update::<FIRST, NESTEROV>(self.w, self.g, self.b, self.p);
    }
}

/// `w -= lr * (g + weight_decay * w)`.
#[inline(always)]
fn plain_update(w: &mut [f32], g: &[f32], p: StepParams) {
    #[inline(always)]
    fn element(w: &mut f32, g: f32, p: StepParams) {
        let d = g + p.weight_decay * *w;
        *w -= p.lr * d;
    }
    for (w, &g) in w.iter_mut().zip(g) {
        element(w, g, p);
    }
}

/// `buf = mu buf + (1 - dampening) g'` (or `g'` at the first step), then
/// `w -= lr * step`, where `g' = g + weight_decay * w`.
#[inline(always)]
fn momentum_update<const FIRST: bool, const NESTEROV: bool>(
    w: &mut [f32],
    g: &[f32],
    buf: &mut [f32],
    p: StepParams,
) {
    #[inline(always)]
    fn element<const FIRST: bool, const NESTEROV: bool>(
        w: &mut f32,
        g: f32,
        b: &mut f32,
        p: StepParams,
    ) {
        let d = g + p.weight_decay * *w;
        *b = if FIRST {
            d
        } else {
            p.momentum * *b + p.dampening_complement * d
        };
        let step = if NESTEROV { d + p.momentum * *b } else { *b };
        *w -= p.lr * step;
    }
    for ((w, &g), b) in w.iter_mut().zip(g).zip(buf.iter_mut()) {
        element::<FIRST, NESTEROV>(w, g, b, p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn options(momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64) -> SgdOptions {
        SgdOptions {
            lr: 0.1,
            momentum,
            dampening,
            nesterov,
            weight_decay,
        }
    }

    #[test]
    fn steps_by_hand() {
        // PyTorch: w = 1, grad = 0.5, momentum 0.9, weight_decay 0.1.
        // Step 1: d = 0.6, buf = 0.6, w = 1 - 0.1 * 0.6 = 0.94.
        // Step 2: d = 0.5 + 0.094 = 0.594, buf = 0.54 + 0.594 = 1.134,
        // w = 0.94 - 0.1134 = 0.8266.
        let mut sgd = Sgd::new(options(0.9, 0.0, false, 0.1), &[1]).unwrap();
        let mut w = [1.0f32];
        sgd.step(0, &mut w, &[0.5], 0.1, 0.9);
        assert!((w[0] - 0.94).abs() < 1e-7);
        sgd.step(0, &mut w, &[0.5], 0.1, 0.9);
        assert!((w[0] - 0.8266).abs() < 1e-6, "{}", w[0]);
        assert!((sgd.momentum_buffer(0).unwrap()[0] - 1.134).abs() < 1e-6);
    }

    #[test]
    fn nesterov_and_dampening_by_hand() {
        // Nesterov, grad 1, momentum 0.5: buf = 1, step = 1 + 0.5 = 1.5.
        let mut sgd = Sgd::new(options(0.5, 0.0, true, 0.0), &[1]).unwrap();
        let mut w = [0.0f32];
        sgd.step(0, &mut w, &[1.0], 1.0, 0.5);
        assert_eq!(w[0], -1.5);

        // Dampening 0.5 does not apply to the first step, which seeds the
        // buffer with the gradient: buf = 1, then 0.5 * 1 + 0.5 * 1 = 1.
        let mut sgd = Sgd::new(options(0.5, 0.5, false, 0.0), &[1]).unwrap();
        let mut w = [0.0f32];
        sgd.step(0, &mut w, &[1.0], 1.0, 0.5);
        assert_eq!(sgd.momentum_buffer(0).unwrap()[0], 1.0);
        sgd.step(0, &mut w, &[1.0], 1.0, 0.5);
        assert_eq!(sgd.momentum_buffer(0).unwrap()[0], 1.0);
        assert_eq!(w[0], -2.0);
    }

    #[test]
    fn zero_momentum_leaves_buffer_alone() {
        let mut sgd = Sgd::new(options(0.9, 0.0, false, 0.0), &[1]).unwrap();
        let mut w = [0.0f32];
        sgd.step(0, &mut w, &[1.0], 1.0, 0.0);
        assert!(sgd.momentum_buffer(0).is_none());
        assert_eq!(w[0], -1.0);
        sgd.step(0, &mut w, &[1.0], 1.0, 0.9);
        sgd.step(0, &mut w, &[1.0], 1.0, 0.0);
        assert_eq!(sgd.momentum_buffer(0).unwrap()[0], 1.0);
    }

    #[test]
    fn every_instruction_set_gives_baseline_bits() {
        let mut rng = Rng::new(5);
        // Sizes 0 to 17 and 257 reach every remainder of the 8- and
        // 16-lane vector loops.
        for size in (0..=17).chain([257]) {
            let w0: Vec<f32> = (0..size).map(|_| rng.next_f64() as f32 - 0.5).collect();
            let g: Vec<f32> = (0..size).map(|_| rng.next_f64() as f32 - 0.5).collect();
            let b0: Vec<f32> = (0..size).map(|_| rng.next_f64() as f32 - 0.5).collect();
            let p = StepParams {
                lr: 0.07,
                momentum: 0.9,
                dampening_complement: 0.8,
                weight_decay: 0.01,
            };
            for first in [true, false] {
                for nesterov in [true, false] {
                    let kind = UpdateKind { first, nesterov };
                    let (mut w_ref, mut b_ref) = (w0.clone(), b0.clone());
                    update(Simd::Baseline, &mut w_ref, &g, Some(&mut b_ref), p, kind);
                    for simd in Simd::supported() {
                        let (mut w, mut b) = (w0.clone(), b0.clone());
                        update(simd, &mut w, &g, Some(&mut b), p, kind);
                        let same = |x: &[f32], y: &[f32]| {
                            x.iter().zip(y).all(|(x, y)| x.to_bits() == y.to_bits())
                        };
                        assert!(same(&w, &w_ref), "{simd:?} {kind:?} size {size}");
                        assert!(same(&b, &b_ref), "{simd:?} {kind:?} size {size}");
                    }
                }
            }
            let kind = UpdateKind {
                first: false,
                nesterov: false,
            };
            let mut w_ref = w0.clone();
            update(Simd::Baseline, &mut w_ref, &g, None, p, kind);
            for simd in Simd::supported() {
                let mut w = w0.clone();
                update(simd, &mut w, &g, None, p, kind);
                assert_eq!(w, w_ref, "{simd:?} size {size}");
            }
        }
    }

    #[test]
    fn invalid_options_name_the_value() {
        let cases = [
            (
                SgdOptions {
                    lr: -0.1,
                    ..SgdOptions::default()
                },
                "Invalid learning rate: -0.1",
            ),
            (
                options(-0.5, 0.0, false, 0.0),
                "Invalid momentum value: -0.5",
            ),
            (
                options(0.0, -1.0, false, 0.0),
                "Invalid dampening value: -1",
            ),
            (
                options(0.0, 0.0, false, -0.01),
                "Invalid weight_decay value: -0.01",
            ),
            (
                SgdOptions {
                    lr: f64::NAN,
                    ..SgdOptions::default()
                },
                "Invalid learning rate: NaN",
            ),
            (
                options(0.0, 0.0, true, 0.0),
                "Nesterov momentum requires a momentum and zero dampening, \
                 but got momentum = 0 and dampening = 0",
            ),
            (
                options(0.9, 0.1, true, 0.0),
                "momentum = 0.9 and dampening = 0.1",
            ),
        ];
        for (options, expected) in cases {
            let message = Sgd::new(options, &[1]).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }
}
