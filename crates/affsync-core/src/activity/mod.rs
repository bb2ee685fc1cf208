//! A communication feed (calls, voicemail, SMS, notes) and the settings that say what of it is
//! logged into Affinity; [`crate::plan::activity`] turns both into writes.

pub mod feed;
pub mod members;
pub mod settings;
