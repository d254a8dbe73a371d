//! N-API binding of `onecycle-core`.
//!
//! The binding converts between JavaScript values and the core's types and
//! contains no numeric logic. The TypeScript layer validates options before it
//! calls in here; the core validates again, so a direct caller still gets a
//! clear error instead of a panic.

#![deny(clippy::all)]

mod model;
mod schedule;

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::{Error, Result, Status};

/// Converts a core error into a JavaScript error whose message is the
/// core's message. Invalid options and shapes map to `InvalidArg`, an
/// aborted run to `Cancelled`, and a diverged run or a step past the
/// schedule's end to `GenericFailure`. The `NonFinite` variant does not tell
/// a diverged run from NaN or infinite input data, so both map to
/// `GenericFailure`.
pub(crate) fn to_js_error(error: onecycle_core::Error) -> Error {
    let status = match error {
        onecycle_core::Error::InvalidOption(_) | onecycle_core::Error::Shape(_) => {
            Status::InvalidArg
        }
        onecycle_core::Error::NonFinite(_) | onecycle_core::Error::StepPastEnd(_) => {
            Status::GenericFailure
        }
        onecycle_core::Error::Aborted => Status::Cancelled,
    };
    Error::new(status, error.to_string())
}

/// Runs `f` and turns a panic into a `GenericFailure` error naming
/// `operation`, because a panic that unwinds into Node aborts the process.
pub(crate) fn catch_panic<T>(operation: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(Error::new(
            Status::GenericFailure,
            format!("internal error in {operation}: {detail}"),
        ))
    })
}

/// Test helpers for a binary that runs without Node.
#[cfg(test)]
pub(crate) mod test_support {
    use std::mem::ManuallyDrop;

    use napi::{Result, Status};

    /// Returns the value of `result`, or the status and message of its
    /// error, without dropping the error. `napi::Error`'s destructor calls
    /// N-API functions that only a running Node process provides, so a test
    /// binary that drops one fails to link.
    pub(crate) fn split<T: Copy>(result: Result<T>) -> std::result::Result<T, (Status, String)> {
        let result = ManuallyDrop::new(result);
        match &*result {
            Ok(value) => Ok(*value),
            Err(error) => Err((error.status, error.reason.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::split;
    use super::*;

    #[test]
    fn core_errors_map_to_status() {
        let cases = [
            (
                onecycle_core::Error::InvalidOption("a".into()),
                Status::InvalidArg,
            ),
            (onecycle_core::Error::Shape("b".into()), Status::InvalidArg),
            (
                onecycle_core::Error::NonFinite("c".into()),
                Status::GenericFailure,
            ),
            (
                onecycle_core::Error::StepPastEnd("d".into()),
                Status::GenericFailure,
            ),
            (onecycle_core::Error::Aborted, Status::Cancelled),
        ];
        for (error, status) in cases {
            let message = error.to_string();
            let (js_status, reason) = split::<()>(Err(to_js_error(error))).unwrap_err();
            assert_eq!(js_status, status, "{message}");
            assert_eq!(reason, message);
        }
    }

    #[test]
    fn catch_panic_returns_generic_failure() {
        let result: Result<()> = catch_panic("lrArray", || panic!("index out of bounds"));
        let (status, reason) = split(result).unwrap_err();
        assert_eq!(status, Status::GenericFailure);
        assert_eq!(reason, "internal error in lrArray: index out of bounds");
    }
}
