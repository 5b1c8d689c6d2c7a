//! beredskab: an ICT contingency plan manager and drill runner.

pub mod domain;
