//! The article's reproduction on top of the escape-lab library: the
//! matcher's variants and the article's other escape cases as scenarios,
//! the workload choice, and the small commands `match` and `list`.
//!
//! The general library (`escape_lab`) knows nothing of any of this; this
//! crate is its first user, and `src/main.rs` is the thin binary over it.
#![deny(missing_docs)]

pub mod commands;
mod error;
pub mod scenarios;

pub use error::ArticleError;
