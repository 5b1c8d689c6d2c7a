//! The plan model and everything that can be said about a plan without I/O: durations, the
//! analysis, and (later) drill logic. Nothing here touches files, the database or the network.

pub mod analysis;
pub mod duration;
pub mod plan;

pub use analysis::{Assessment, Code, Finding, Severity};
pub use duration::Duration;
pub use plan::*;
