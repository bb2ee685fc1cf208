//! The client against the emulator, and against small mock servers where routes are missing.
