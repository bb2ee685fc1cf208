//! Deserializers that tolerate Affinity's quirks (affinity-api.md §8.10): `"unlimited"`
//! strings where numbers are expected, ints or strings for colors, `null` for empty arrays.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A quota: a count, or the string `"unlimited"` (the live v1 `/rate-limit` answer, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A number.
    Count(u64),
    /// No limit.
    Unlimited,
}

impl Limit {
    /// The count, `None` when unlimited.
    pub fn count(self) -> Option<u64> {
        match self {
            Limit::Count(n) => Some(n),
            Limit::Unlimited => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Count(n) => write!(f, "{n}"),
            Limit::Unlimited => f.write_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        match &v {
            serde_json::Value::Number(n) => n
                .as_u64()
                .or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
                .map(Limit::Count)
                .ok_or_else(|| serde::de::Error::custom(format!("not a count: {n}"))),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("unlimited") => {
                Ok(Limit::Unlimited)
            }
            serde_json::Value::String(s) => s
                .trim()
                .parse()
                .map(Limit::Count)
                .map_err(|_| serde::de::Error::custom(format!("not a count: `{s}`"))),
            // [I] A missing quota reads as no quota.
            serde_json::Value::Null => Ok(Limit::Unlimited),
            other => Err(serde::de::Error::custom(format!("not a count: {other}"))),
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Count(n) => s.serialize_u64(*n),
            Limit::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

/// A number that may come as a string (or `"unlimited"`, read as `None`).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Limit>::deserialize(d)? {
        Some(Limit::Count(n)) => Some(n),
        _ => None,
    })
}

/// `null` read as the type's default (an empty list).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A dropdown color: an int in v1, a string in v2 (affinity-api.md §8.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Color {
    /// An int (v1).
    Code(i64),
    /// A name (v2).
    Name(String),
}
