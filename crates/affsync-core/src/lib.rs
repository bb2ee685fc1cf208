//! affsync core
