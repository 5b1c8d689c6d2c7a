//! The plan model and everything that can be said about a plan without I/O: durations, the
//! analysis, edits, differences, access rules. Nothing here touches files, the database or the
//! network.

pub mod access;
pub mod analysis;
pub mod completeness;
pub mod coverage;
pub mod diff;
pub mod dispensation;
pub mod drill;
pub mod duration;
pub mod edit;
pub mod health;
pub mod incident;
pub mod plan;
pub mod sheet;
pub mod sms;

pub use analysis::{Assessment, Code, Finding, Severity};
pub use duration::Duration;
pub use plan::*;
