//! Integration tests, one binary: the real client and CLI against the emulator.

mod common;
mod emulator_basics;
mod emulator_v2;
mod openapi;
