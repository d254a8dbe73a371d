//! N-API binding of `onecycle-core`.
//!
//! The binding converts between JavaScript values and the core's types and
//! holds no numeric logic. The TypeScript layer validates options before it
//! calls in here; the core validates again, so a direct caller still gets a
//! clear error instead of a panic.

#![deny(clippy::all)]

mod model;
mod schedule;

use napi::{Error, Status};

/// Converts a core error into a JavaScript error whose message is the
/// core's message.
pub(crate) fn to_js_error(error: onecycle_core::Error) -> Error {
    let status = match error {
        onecycle_core::Error::Aborted => Status::Cancelled,
        _ => Status::InvalidArg,
    };
    Error::new(status, error.to_string())
}
