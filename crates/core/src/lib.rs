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

pub mod activation;
pub mod error;
pub mod gemm;
pub mod loss;
pub mod mlp;
pub mod rng;
pub mod schedule;
pub mod sgd;
pub mod train;

pub use activation::Activation;
pub use error::{Error, Result};
pub use loss::{Loss, Targets};
pub use mlp::{Dense, Mlp, Workspace};
pub use rng::Rng;
pub use schedule::{AnnealStrategy, OneCycleLR, OneCycleOptions};
pub use sgd::{Sgd, SgdOptions};
pub use train::{fit, EpochRecord, FitOptions, History, StepRecords, Validation};
