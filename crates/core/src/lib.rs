//! Dense multilayer perceptrons trained on the CPU with the 1cycle
//! learning-rate policy.
//!
//! The crate contains the numeric side of `onecycle`: PyTorch's `OneCycleLR`
//! schedule, SGD with PyTorch's semantics fused into one pass per parameter
//! tensor, dense layers with their activations and losses, and the training
//! loop. It knows nothing of JavaScript; the `onecycle-node` crate binds it.
//! `docs/semantics.md` in the repository gives the rules that the Rust and
//! TypeScript engines share (random numbers, initialisation, batching).
//!
//! Data sets, parameters and model outputs are [`ndarray`] arrays with one
//! sample per row: inputs `[rows, inputs]`, a layer's weight
//! `[outputs, inputs]` as in PyTorch's `nn.Linear`. Functions that read data
//! take views of any layout and read standard-layout views in place. The
//! crate re-exports `ndarray`, so callers can name the same version.
//!
//! ```
//! use ndarray::array;
//! use onecycle_core::{Activation, Mlp};
//!
//! let model = Mlp::new(&[2, 8, 1], Activation::Tanh, 0)?;
//! let x = array![[0.5, -1.0], [0.25, 2.0], [1.0, 0.0]];
//! let y = model.predict(x.view())?;
//! assert_eq!(y.dim(), (3, 1));
//! # Ok::<(), onecycle_core::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]

pub use ndarray;

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
pub use mlp::{Dense, Mlp, Workspace, MAX_LAYER_PARAMETERS};
pub use rng::Rng;
pub use schedule::{AnnealStrategy, OneCycleLR, OneCycleOptions};
pub use sgd::{Sgd, SgdOptions};
pub use train::{fit, EpochRecord, FitOptions, History, StepRecords, Validation, MAX_THREADS};
