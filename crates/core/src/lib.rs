//! Dense multilayer perceptrons trained on the CPU with the 1cycle
//! learning-rate policy.
//!
//! The crate holds the numeric side of `onecycle`: PyTorch's `OneCycleLR`
//! schedule, SGD with PyTorch's semantics fused into one pass per parameter
//! tensor, dense layers with their activations and losses, and the training
//! loop. It knows nothing of JavaScript; the `onecycle-node` crate binds it.
//! `docs/semantics.md` in the repository gives the rules that the Rust and
//! TypeScript engines share (random numbers, initialisation, batching).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod error;
pub mod rng;
pub mod schedule;

pub use error::{Error, Result};
pub use rng::Rng;
pub use schedule::{AnnealStrategy, OneCycleLR, OneCycleOptions};
