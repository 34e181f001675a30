//! What a scenario's call returns: a count of items, or why it failed.

/// Why one call failed; a run reports it as
/// `"<message> at call <n>: <detail>"` and marks the scenario failed.
///
/// Any [`std::error::Error`] converts into it (its `Display` becomes the
/// message), so a call can return `Result<_, YourError>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// What happened, e.g. `buffer full (capacity 4096)`.
    pub message: String,
    /// More about it (what to do), or empty.
    pub detail: String,
}

impl CallError {
    /// A call error with a message and no detail.
    ///
    /// # Allocation
    ///
    /// The message `String`.
    pub fn new(message: impl Into<String>) -> CallError {
        CallError {
            message: message.into(),
            detail: String::new(),
        }
    }

    /// Adds a detail: what the user can do about it.
    ///
    /// # Allocation
    ///
    /// The detail `String`.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> CallError {
        self.detail = detail.into();
        self
    }
}

impl<E: std::error::Error> From<E> for CallError {
    fn from(e: E) -> CallError {
        CallError::new(e.to_string())
    }
}

/// What a call may return: nothing, a number of items it produced (matches,
/// tokens, lines: shown per call in reports), or a `Result` of either whose
/// error becomes a [`CallError`].
pub trait CallOutput {
    /// The items the call produced (0 for `()`), or why it failed.
    ///
    /// # Errors
    ///
    /// The call's own error.
    fn into_items(self) -> Result<u64, CallError>;
}

impl CallOutput for () {
    #[inline]
    fn into_items(self) -> Result<u64, CallError> {
        Ok(0)
    }
}

impl CallOutput for u64 {
    #[inline]
    fn into_items(self) -> Result<u64, CallError> {
        Ok(self)
    }
}

impl CallOutput for usize {
    #[inline]
    fn into_items(self) -> Result<u64, CallError> {
        Ok(self as u64)
    }
}

impl<T: CallOutput, E: Into<CallError>> CallOutput for Result<T, E> {
    #[inline]
    fn into_items(self) -> Result<u64, CallError> {
        self.map_err(Into::into)?.into_items()
    }
}
