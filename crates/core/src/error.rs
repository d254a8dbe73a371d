//! The error type of every fallible operation in the crate.

/// An error from building a schedule, a model or a training run.
///
/// Each variant carries a complete message that names the offending value
/// and, where one exists, the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// An option is out of its valid range or inconsistent with another.
    #[error("{0}")]
    InvalidOption(String),
    /// An array does not have the length or shape the operation expects.
    #[error("{0}")]
    Shape(String),
    /// Input data or a computed value is NaN or infinite.
    #[error("{0}")]
    NonFinite(String),
    /// `OneCycleLR::step` was called after the schedule had ended.
    #[error("{0}")]
    StepPastEnd(String),
    /// A training run stopped because its cancellation flag was set.
    #[error("training was aborted")]
    Aborted,
}

/// The result type of the crate.
pub type Result<T> = std::result::Result<T, Error>;
