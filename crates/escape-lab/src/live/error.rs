//! The error type of the live endpoints.

use std::io;

/// What can go wrong starting the endpoint server. Once it runs, bad
/// requests are answered with HTTP errors, never returned here.
///
/// Messages are lowercase, have no trailing period, and name the address;
/// the underlying error is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The address does not parse or resolve.
    #[error("{addr:?} is not an address to listen on: {problem}")]
    Address {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The address could not be bound (in use, or not this machine's).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address as given.
        addr: String,
        /// What the listener said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server's thread could not be started.
    #[error("cannot start the profile server's thread")]
    Thread(#[source] io::Error),
}
