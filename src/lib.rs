//! beredskab: an ICT contingency plan manager and drill runner.

pub mod app;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod http_client;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod plan_files;
pub mod render;
pub mod scheduler;
pub mod startup;
pub mod store;
mod web;
