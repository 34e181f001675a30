//! The regression gate: exact allocation counts per call against a committed
//! baseline.
//!
//! Allocation counts per call are exact and repeatable, so the gate needs no
//! tolerance: any increase in allocations or bytes per call of any scenario
//! fails, and nothing else does. Time is never gated.
//!
//! Policy for the scenario sets:
//!
//! - a scenario measured now but absent from the baseline **fails**: a new
//!   scenario must enter the baseline through `--bless`, in review;
//! - a scenario in the baseline that is no longer measured **fails** too:
//!   dropping or renaming a scenario must not silently drop its guard;
//! - a decrease passes and says so (bless to lock it in);
//! - a different rustc version than the baseline's is a warning: the
//!   standard library's growth strategy can change counts, so read a failure
//!   after a toolchain upgrade with that in mind.
//!
//! [`baseline`] is the file format, [`check`] the measurement (and bless),
//! [`compare`] the comparison, [`report`] the three ways of printing the
//! result.

pub mod baseline;
pub mod check;
pub mod compare;
pub mod report;
