//! Element-wise activation functions and their derivatives.
//!
//! Every function has PyTorch's definition and default parameters. The
//! forward pass works in place on a layer's output. The backward pass
//! multiplies an incoming gradient by the derivative, which it computes from
//! the tensor the training loop saved: the activation's output for every
//! function except GELU, whose derivative needs the input.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

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

    /// Whether [`Activation::backward`] needs the activation's input (the
    /// pre-activation) instead of its output. Only GELU does.
    pub fn backward_reads_input(self) -> bool {
        self == Activation::Gelu
    }

    /// Applies the activation to one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => relu(x),
            Activation::LeakyRelu => leaky_relu(x),
            Activation::Tanh => x.tanh(),
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
            Activation::Tanh => map_in_place(values, f32::tanh),
            Activation::Sigmoid => map_in_place(values, sigmoid),
            Activation::Gelu => map_in_place(values, gelu),
            Activation::Identity => {}
        }
    }

    /// Writes the activation of each element of `input` to `output`.
    ///
    /// # Panics
    ///
    /// Panics if the slices differ in length.
    pub fn forward_to(self, input: &[f32], output: &mut [f32]) {
        assert_eq!(input.len(), output.len(), "activation input and output lengths differ");
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
        assert_eq!(saved.len(), grad.len(), "activation saved and gradient lengths differ");
        match self {
            Activation::Relu => scale_by(grad, saved, |y| if y > 0.0 { 1.0 } else { 0.0 }),
            Activation::LeakyRelu => {
                scale_by(grad, saved, |y| if y > 0.0 { 1.0 } else { LEAKY_RELU_SLOPE })
            }
            Activation::Tanh => scale_by(grad, saved, |y| 1.0 - y * y),
            Activation::Sigmoid => scale_by(grad, saved, |y| y * (1.0 - y)),
            Activation::Gelu => {
                for (g, &x) in grad.iter_mut().zip(saved) {
                    *g = (f64::from(*g) * gelu_derivative(f64::from(x))) as f32;
                }
            }
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

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn gelu(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// `Phi(x) + x * phi(x)`, the derivative of `x * Phi(x)`.
fn gelu_derivative(x: f64) -> f64 {
    use std::f64::consts::{FRAC_1_SQRT_2, PI};
    let cdf = 0.5 * (1.0 + libm::erf(x * FRAC_1_SQRT_2));
    let pdf = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
    cdf + x * pdf
}

/// Applies `f` to every element. A plain loop over one slice lets LLVM
/// vectorise it when `f` makes no calls.
#[inline(always)]
fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32) {
    for v in values {
        *v = f(*v);
    }
}

/// Multiplies each gradient by `derivative` of the saved value.
#[inline(always)]
fn scale_by(grad: &mut [f32], saved: &[f32], derivative: impl Fn(f32) -> f32) {
    for (g, &s) in grad.iter_mut().zip(saved) {
        *g *= derivative(s);
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
        assert!((Activation::Gelu.apply(1.0) - 0.841_344_75).abs() < 1e-7);
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
