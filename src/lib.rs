//! The article's reproduction on top of the escape-lab library: the
//! matcher's variants and the article's other escape cases as scenarios,
//! the workload choice, the small commands `match` and `list`, `serve`
//! (the scenarios in a loop behind live `/debug/pprof/` endpoints) and
//! `serve --measure` (the sampler's overhead and accuracy).
//!
//! The general library (`escape_lab`) knows nothing of any of this; this
//! crate is its first user, and `src/main.rs` is the thin binary over it.
#![deny(missing_docs)]

pub mod commands;
mod error;
pub mod measure;
pub mod scenarios;
pub mod serve;

pub use error::ArticleError;
