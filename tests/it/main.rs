//! Integration tests, one binary: the real client and CLI against the emulator.

mod client;
mod common;
mod decode;
mod emulator_basics;
mod openapi;
