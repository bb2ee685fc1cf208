//! Integration tests, one binary: the real client and CLI against the emulator.

mod activity_log;
mod check;
mod cli;
mod client;
mod client_quirks;
mod common;
mod contacts;
mod db;
mod decisions;
mod decode;
mod demo_tenant;
mod emulator_basics;
mod emulator_v1;
mod emulator_v2;
mod jobs;
mod layout;
mod match_cli;
mod matcher;
mod openapi;
mod pull;
mod pull_cli;
mod push_cli;
mod push_faults;
mod report;
mod review;
mod settings;
