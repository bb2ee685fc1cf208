//! The Affinity API client: one `send()` for every request, v1 and v2 models, paging, rate limits.
