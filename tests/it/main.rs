//! Integration tests, one binary: the real client and CLI against the emulator.

mod activity_log;
mod check;
mod cli;
mod client;
mod client_quirks;
mod client_surface;
mod common;
mod contacts;
mod db;
mod decode;
mod demo_tenant;
mod emulator_basics;
mod emulator_fidelity;
mod emulator_v1;
mod emulator_v2;
mod every_operation;
mod jobs;
mod match_cli;
mod matcher;
mod openapi;
mod pull;
mod pull_cli;
mod push_cli;
mod push_faults;
mod review;
mod webhooks;
