//! Element-wise activation functions and their derivatives.
//!
//! Every function has PyTorch's definition and default parameters. The
//! forward pass works in place on a layer's output. The backward pass
//! multiplies an incoming gradient by the derivative, which it computes from
//! the tensor the training loop saved: the activation's output for every
//! function except GELU, whose derivative needs the input.
//!
//! The loops run compiled for the widest vector instructions of the CPU.
//! `tanh` and `sigmoid` use Cephes' single-precision `tanhf` and `expf`
//! algorithms, written in plain arithmetic so that they vectorise. They stay
//! within 1.2 and 2.4 ulps of the exact values over [-20, 20], as the tests
//! check. GELU calls `erf` in f64 for each element, without vectors, and
//! splits large layers over threads instead.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use rayon::prelude::*;

use crate::gemm::{available_threads, Simd, SimdLoop};

/// Elements from which the GELU loops, which call `erf` for each element,
/// are split over threads. Each element is computed on its own, so the split
/// never changes a result.
const GELU_PARALLEL_MIN: usize = 1 << 14;

/// Elements per task of the split GELU loops.
const GELU_CHUNK: usize = 1 << 12;

/// Slope of `leaky_relu` for negative inputs (PyTorch's `negative_slope`
/// default).
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

/// An activation applied after every layer but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `max(x, 0)`, with derivative 0 at 0.
    Relu,
    /// `x` for `x > 0`, else `0.01 x`, with derivative 0.01 at 0.
    LeakyRelu,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Exact GELU `x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))`, computed in
    /// f64 and rounded to f32.
    Gelu,
    /// `x`, unchanged.
    Identity,
}

impl Activation {
    /// Every activation, in the order of [`Activation::NAMES`].
    pub const ALL: [Activation; 6] = [
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Identity,
    ];

    /// The names accepted by [`str::parse`], in the order of
    /// [`Activation::ALL`].
    pub const NAMES: [&'static str; 6] =
        ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "identity"];

    /// Returns the name that [`str::parse`] accepts for this activation.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Gelu => "gelu",
            Activation::Identity => "identity",
        }
    }

    /// Returns whether [`Activation::backward`] needs the activation's input
    /// (the pre-activation) instead of its output. Only GELU does.
    pub fn backward_reads_input(self) -> bool {
        self == Activation::Gelu
    }

    /// Applies the activation to one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => relu(x),
            Activation::LeakyRelu => leaky_relu(x),
            Activation::Tanh => tanh(x),
            Activation::Sigmoid => sigmoid(x),
            Activation::Gelu => gelu(x),
            Activation::Identity => x,
        }
    }

    /// Applies the activation to every element of `values` in place.
    pub fn forward(self, values: &mut [f32]) {
        match self {
            Activation::Relu => map_in_place(values, relu),
            Activation::LeakyRelu => map_in_place(values, leaky_relu),
            Activation::Tanh => map_in_place(values, tanh),
            Activation::Sigmoid => map_in_place(values, sigmoid),
            Activation::Gelu => gelu_forward(values),
            Activation::Identity => {}
        }
    }

    /// Writes the activation of each element of `input` to `output`.
    ///
    /// # Panics
    ///
    /// Panics if the slices differ in length.
    pub fn forward_to(self, input: &[f32], output: &mut [f32]) {
        assert_eq!(
            input.len(),
            output.len(),
            "activation input and output lengths differ"
        );
        output.copy_from_slice(input);
        self.forward(output);
    }

    /// Multiplies each element of `grad` by the derivative of the
    /// activation at the same element.
    ///
    /// `saved` is the activation's input when
    /// [`Activation::backward_reads_input`] is true (GELU), and its output
    /// otherwise. For ReLU and leaky ReLU an output of exactly 0 stands for
    /// an input of 0, so the derivatives there are 0 and 0.01 as in PyTorch.
    ///
    /// # Panics
    ///
    /// Panics if the slices differ in length.
    pub fn backward(self, saved: &[f32], grad: &mut [f32]) {
        assert_eq!(
            saved.len(),
            grad.len(),
            "activation saved and gradient lengths differ"
        );
        match self {
            Activation::Relu => scale_by(grad, saved, relu_derivative),
            Activation::LeakyRelu => scale_by(grad, saved, leaky_relu_derivative),
            Activation::Tanh => scale_by(grad, saved, tanh_derivative),
            Activation::Sigmoid => scale_by(grad, saved, sigmoid_derivative),
            Activation::Gelu => gelu_backward(saved, grad),
            Activation::Identity => {}
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Activation::ALL
            .into_iter()
            .find(|activation| activation.name() == name)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown activation {name:?}: expected one of {}",
                    Activation::NAMES.join(", ")
                ))
            })
    }
}

#[inline(always)]
fn relu(x: f32) -> f32 {
    // NaN compares false, so it passes through as in PyTorch.
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

#[inline(always)]
fn leaky_relu(x: f32) -> f32 {
    if x < 0.0 {
        x * LEAKY_RELU_SLOPE
    } else {
        x
    }
}

/// `1 / (1 + exp(-x))`.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x)` by Cephes' `tanhf`: an odd polynomial below 0.625 in
/// magnitude, where `1 - 2 / (exp(2|x|) + 1)` would lose digits to
/// cancellation, and that formula above.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let magnitude = x.abs();
    let result = if magnitude < 0.625 {
        let z = x * x;
        let p = (((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_5e-2) * z + 1.333_144_2e-1)
            * z
            - 3.333_328e-1;
        p * z * magnitude + magnitude
    } else {
        let e = exp(2.0 * magnitude);
        1.0 - 2.0 / (e + 1.0)
    };
    // tanh is odd, and the sign also keeps tanh(-0) = -0.
    result.copysign(x)
}

/// `exp(x)` by Cephes' `expf`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a
/// degree-6 polynomial for `exp(r)`, and `2^n` built from its exponent
/// bits. Inputs are clamped to `[-87, 88]`, which keeps `2^n` a normal
/// number, so `exp` saturates at about 1.6e38 and 1.6e-38.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let n = floor(x * std::f32::consts::LOG2_E + 0.5);
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_6e-1)
        * r
        + 0.5;
    let exp_r = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    exp_r * scale
}

/// `floor(x)` for `|x| < 2^31` through a truncating conversion, which every
/// x86-64 vector instruction set has (SSE2 has no vector `floor`).
#[inline(always)]
fn floor(x: f32) -> f32 {
    let truncated = x as i32 as f32;
    if truncated > x {
        truncated - 1.0
    } else {
        truncated
    }
}

#[inline(always)]
fn relu_derivative(y: f32) -> f32 {
    if y > 0.0 {
        1.0
    } else {
        0.0
    }
}

#[inline(always)]
fn leaky_relu_derivative(y: f32) -> f32 {
    if y > 0.0 {
        1.0
    } else {
        LEAKY_RELU_SLOPE
    }
}

#[inline(always)]
fn tanh_derivative(y: f32) -> f32 {
    1.0 - y * y
}

#[inline(always)]
fn sigmoid_derivative(y: f32) -> f32 {
    y * (1.0 - y)
}

fn gelu(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))) as f32
}

fn gelu_forward(values: &mut [f32]) {
    let run = |chunk: &mut [f32]| chunk.iter_mut().for_each(|v| *v = gelu(*v));
    if values.len() >= GELU_PARALLEL_MIN && available_threads() > 1 {
        values.par_chunks_mut(GELU_CHUNK).for_each(run);
    } else {
        run(values);
    }
}

fn gelu_backward(saved: &[f32], grad: &mut [f32]) {
    let run = |(grad, saved): (&mut [f32], &[f32])| {
        for (g, &x) in grad.iter_mut().zip(saved) {
            *g = (f64::from(*g) * gelu_derivative(f64::from(x))) as f32;
        }
    };
    if grad.len() >= GELU_PARALLEL_MIN && available_threads() > 1 {
        let chunks = grad
            .par_chunks_mut(GELU_CHUNK)
            .zip(saved.par_chunks(GELU_CHUNK));
        chunks.for_each(run);
    } else {
        run((grad, saved));
    }
}

/// `Phi(x) + x * phi(x)`, the derivative of `x * Phi(x)`.
fn gelu_derivative(x: f64) -> f64 {
    use std::f64::consts::{FRAC_1_SQRT_2, PI};
    let cdf = 0.5 * (1.0 + libm::erf(x * FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
    cdf + x * pdf
}

/// Applies `f` to every element, compiled for the CPU's widest vectors.
/// `f` is a function item, so each activation gets its own inlined loop.
fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32) {
    Simd::detect().run(MapInPlace { values, f });
}

/// Multiplies each gradient by `derivative` of the saved value, compiled
/// for the CPU's widest vectors.
fn scale_by(grad: &mut [f32], saved: &[f32], derivative: impl Fn(f32) -> f32) {
    Simd::detect().run(ScaleBy {
        grad,
        saved,
        derivative,
    });
}

struct MapInPlace<'a, F> {
    values: &'a mut [f32],
    f: F,
}

impl<F: Fn(f32) -> f32> SimdLoop for MapInPlace<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        for v in self.values {
            *v = (self.f)(*v);
        }
    }
}

struct ScaleBy<'a, F> {
    grad: &'a mut [f32],
    saved: &'a [f32],
    derivative: F,
}

impl<F: Fn(f32) -> f32> SimdLoop for ScaleBy<'_, F> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        for (g, &s) in self.grad.iter_mut().zip(self.saved) {
            *g *= (self.derivative)(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (activation, name) in Activation::ALL.into_iter().zip(Activation::NAMES) {
            assert_eq!(activation.name(), name);
            assert_eq!(name.parse::<Activation>().unwrap(), activation);
            assert_eq!(activation.to_string(), name);
        }
    }

    #[test]
    fn unknown_name_lists_valid_names() {
        let message = "swish".parse::<Activation>().unwrap_err().to_string();
        assert!(message.contains("\"swish\""), "{message}");
        for name in Activation::NAMES {
            assert!(message.contains(name), "{message} lacks {name}");
        }
    }

    #[test]
    fn values_by_hand() {
        assert_eq!(Activation::Relu.apply(-2.0), 0.0);
        assert_eq!(Activation::Relu.apply(3.0), 3.0);
        assert_eq!(Activation::LeakyRelu.apply(-2.0), -0.02);
        assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
        assert_eq!(Activation::Tanh.apply(0.0), 0.0);
        assert_eq!(Activation::Gelu.apply(0.0), 0.0);
        // 1 * Phi(1) = 0.841344746...
        let gelu_one = f64::from(Activation::Gelu.apply(1.0));
        assert!((gelu_one - 0.841_344_746_068_543).abs() < 1e-7);
        assert_eq!(Activation::Identity.apply(-7.5), -7.5);
        assert!(Activation::Relu.apply(f32::NAN).is_nan());
    }

    #[test]
    fn slice_forward_matches_scalar() {
        // 37 elements: two full AVX-512 vectors and a remainder of 5.
        let input: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.37).collect();
        for activation in Activation::ALL {
            let mut values = input.clone();
            activation.forward(&mut values);
            for (i, (&v, &x)) in values.iter().zip(&input).enumerate() {
                let expected = activation.apply(x);
                assert_eq!(v.to_bits(), expected.to_bits(), "{activation} at {i}");
            }
        }
    }

    /// Returns the distance from `got` to `want` in units of the last place
    /// of `want` rounded to f32.
    fn ulps(got: f32, want: f64) -> f64 {
        let rounded = want as f32;
        let ulp =
            f64::from(rounded.abs().next_up() - rounded.abs()).max(f64::from(f32::MIN_POSITIVE));
        (f64::from(got) - want).abs() / ulp
    }

    #[test]
    fn tanh_and_sigmoid_stay_within_four_ulps() {
        // Every 1/1024 over [-20, 20] covers both tanh formulas, the switch
        // between them at 0.625 and the saturated ends. The largest errors
        // on this grid are 1.2 ulps for tanh and 2.4 for sigmoid.
        let mut worst = [0.0f64; 2];
        for step in -20_480..=20_480 {
            let x = step as f32 / 1024.0;
            let exact_tanh = f64::from(x).tanh();
            let exact_sigmoid = 1.0 / (1.0 + (-f64::from(x)).exp());
            worst[0] = worst[0].max(ulps(tanh(x), exact_tanh));
            worst[1] = worst[1].max(ulps(sigmoid(x), exact_sigmoid));
        }
        assert!(worst[0] <= 4.0, "tanh is off by {} ulps", worst[0]);
        assert!(worst[1] <= 4.0, "sigmoid is off by {} ulps", worst[1]);
    }

    #[test]
    fn exp_saturates_and_propagates_nan() {
        assert!(tanh(f32::NAN).is_nan());
        assert!(sigmoid(f32::NAN).is_nan());
        assert_eq!(tanh(1e30), 1.0);
        assert_eq!(tanh(-1e30), -1.0);
        assert_eq!(sigmoid(1e30), 1.0);
        assert!(sigmoid(-1e30) < 1e-37);
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn every_instruction_set_gives_baseline_bits() {
        // 37 values: two full AVX-512 vectors and a remainder of 5.
        let input: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.37).collect();
        for activation in Activation::ALL {
            let mut baseline = input.clone();
            Simd::Baseline.run(MapInPlace {
                values: &mut baseline,
                f: |x| activation.apply(x),
            });
            for simd in Simd::supported() {
                let mut values = input.clone();
                activation.forward(&mut values);
                let mut forced = input.clone();
                simd.run(MapInPlace {
                    values: &mut forced,
                    f: |x| activation.apply(x),
                });
                assert_eq!(values, baseline, "{activation} detected path");
                assert_eq!(forced, baseline, "{activation} on {simd:?}");
            }
        }
    }

    #[test]
    fn derivatives_at_zero_follow_pytorch() {
        let mut grad = [1.0f32];
        Activation::Relu.backward(&[0.0], &mut grad);
        assert_eq!(grad[0], 0.0);
        let mut grad = [1.0f32];
        Activation::LeakyRelu.backward(&[0.0], &mut grad);
        assert_eq!(grad[0], LEAKY_RELU_SLOPE);
        let mut grad = [1.0f32];
        Activation::Gelu.backward(&[0.0], &mut grad);
        assert_eq!(grad[0], 0.5);
    }
}
