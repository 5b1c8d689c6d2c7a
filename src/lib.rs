//! beredskab: an ICT contingency plan manager and drill runner.

pub mod cli;
pub mod config;
pub mod domain;
pub mod drills;
pub mod mail;
pub mod metrics;
pub mod plan_files;
pub mod render;
pub mod store;
pub mod web;
