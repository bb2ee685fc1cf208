//! Rate-limit headers, the pacing decision and the retry backoff: pure parts of
//! [`super::Client::send`], tested by tables.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// One reading of the rate-limit headers (affinity-api.md §4): lowercase `x-ratelimit-*`
/// since 2026-01-14; the org ones absent when no monthly quota applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateReading {
    /// `x-ratelimit-limit-user`: requests per window.
    pub user_limit: Option<u64>,
    /// `x-ratelimit-limit-user-remaining`.
    pub user_remaining: Option<u64>,
    /// Seconds until the per-user window resets.
    pub user_reset: Option<u64>,
    /// `x-ratelimit-limit-org`: the monthly quota (`None` when `unlimited`).
    pub org_limit: Option<u64>,
    /// `x-ratelimit-limit-org-remaining`.
    pub org_remaining: Option<u64>,
    /// `x-ratelimit-limit-org-reset`: seconds until the monthly quota resets.
    pub org_reset: Option<u64>,
}

impl RateReading {
    /// Reads the headers; absent or non-numeric values are `None`. Header names are
    /// case-insensitive in HTTP, so the older `X-Ratelimit-*` spelling reads the same.
    pub fn from_headers(h: &HeaderMap) -> Option<RateReading> {
        let num = |name: &str| -> Option<u64> {
            let v = h.get(name)?.to_str().ok()?.trim();
            // [I] A fractional reset ("1.5") is read rounded up, so waiting it out is enough.
            v.parse::<u64>()
                .ok()
                .or_else(|| v.parse::<f64>().ok().map(|f| f.max(0.0).ceil() as u64))
        };
        let r = RateReading {
            user_limit: num("x-ratelimit-limit-user"),
            user_remaining: num("x-ratelimit-limit-user-remaining"),
            user_reset: num("x-ratelimit-limit-user-reset"),
            org_limit: num("x-ratelimit-limit-org"),
            org_remaining: num("x-ratelimit-limit-org-remaining"),
            org_reset: num("x-ratelimit-limit-org-reset"),
        };
        (r != RateReading::default()).then_some(r)
    }

    /// The monthly quota is spent: waiting for the per-minute window will not help.
    pub fn org_spent(&self) -> bool {
        self.org_remaining == Some(0)
    }
}

/// What the client knows of the per-user window, shared by every request of a client.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaceState {
    /// The limit (`unlimited` when none).
    pub limit: Option<u64>,
    /// Requests left in the window, counting the ones sent since the last reading.
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset_at: Option<Instant>,
    /// The monthly quota reading, if any.
    pub org_remaining: Option<u64>,
}

impl PaceState {
    /// Takes a fresh reading taken at `now`.
    pub fn update(&mut self, r: &RateReading, now: Instant) {
        if r.user_limit.is_some() {
            self.limit = r.user_limit;
        }
        let new_reset = r.user_reset.map(|s| now + Duration::from_secs(s));
        // Within one window, a reading does not count the requests sent after the answer was
        // made (other requests of this client in flight): keep the lower count, or several
        // concurrent requests spend the same last slots and meet 429s.
        let same_window = match (self.reset_at, new_reset) {
            (Some(a), Some(b)) => a.max(b) - a.min(b) <= Duration::from_secs(2),
            _ => false,
        };
        match (self.remaining, r.user_remaining) {
            (Some(local), Some(read)) if same_window => self.remaining = Some(local.min(read)),
            (_, Some(read)) => self.remaining = Some(read),
            _ => {}
        }
        if new_reset.is_some() {
            self.reset_at = new_reset;
        }
        self.org_remaining = r.org_remaining;
    }

    /// How long to wait before the next request, and counts that request as sent.
    ///
    /// - Nothing known, or the window already reset: no wait.
    /// - `remaining` is 0: wait for the reset.
    /// - `remaining` is below `low_water` (a share of the limit): spread what is left evenly
    ///   over the time left, so the budget lasts until the reset instead of ending in 429s.
    pub fn pace(&mut self, now: Instant, low_water: f64) -> Duration {
        let (Some(remaining), Some(reset_at)) = (self.remaining, self.reset_at) else {
            return Duration::ZERO;
        };
        if reset_at <= now {
            // A new window: forget the old reading until the next answer brings one.
            self.remaining = None;
            self.reset_at = None;
            return Duration::ZERO;
        }
        let left = reset_at - now;
        let threshold = self
            .limit
            .map(|l| ((l as f64) * low_water).round() as u64)
            .unwrap_or(0)
            .max(1);
        let wait = if remaining == 0 {
            left
        } else if remaining < threshold {
            left / (remaining as u32 + 1)
        } else {
            Duration::ZERO
        };
        // At 0 the state is kept: other requests of this client asking now must wait for the
        // reset too (forgetting it let them through into 429s); once the reset time has
        // passed, the next call forgets the old window (above).
        self.remaining = Some(remaining.saturating_sub(1));
        wait
    }
}

/// Exponential backoff with jitter: attempt `n` (0-based) waits between half and all of
/// `min(base * 2^n, cap)` ("equal jitter", so two clients do not retry in step, and no retry
/// comes back at once).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first retry's delay.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The delay before retry `attempt` (0-based), with `jitter` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.cap)
            .min(self.cap);
        let half = exp / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// How long to wait after a 429: until the per-user window resets (from the headers) plus a
/// little jitter, or the backoff when the answer carried no reset. There is no documented
/// `Retry-After` (affinity-api.md §4, \[I\]), but one is honoured when present.
pub fn wait_after_429(
    reading: Option<&RateReading>,
    retry_after: Option<u64>,
    backoff: &Backoff,
    attempt: u32,
    jitter: f64,
) -> Duration {
    let reset = reading.and_then(|r| r.user_reset).or(retry_after);
    match reset {
        // A reset of 0 means the window turns over now; still wait a moment, as the
        // server counts in whole seconds.
        Some(s) => Duration::from_secs(s) + Duration::from_millis(50 + (jitter * 200.0) as u64),
        None => backoff.delay(attempt, jitter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn headers_read() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<RateReading>);
        let cases: &[Case] = &[
            (&[], None),
            (
                &[
                    ("x-ratelimit-limit-user", "900"),
                    ("x-ratelimit-limit-user-remaining", "878"),
                    ("x-ratelimit-limit-user-reset", "10"),
                ],
                Some(RateReading {
                    user_limit: Some(900),
                    user_remaining: Some(878),
                    user_reset: Some(10),
                    ..Default::default()
                }),
            ),
            (
                &[
                    ("X-Ratelimit-Limit-User-Remaining", "0"),
                    ("x-ratelimit-limit-org", "100000"),
                    ("x-ratelimit-limit-org-remaining", "5"),
                    ("x-ratelimit-limit-org-reset", "1.2"),
                ],
                Some(RateReading {
                    user_remaining: Some(0),
                    org_limit: Some(100000),
                    org_remaining: Some(5),
                    org_reset: Some(2),
                    ..Default::default()
                }),
            ),
            (&[("x-ratelimit-limit-user", "unlimited")], None),
        ];
        for (headers, want) in cases {
            let mut h = HeaderMap::new();
            for (k, v) in *headers {
                h.insert(
                    reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            assert_eq!(RateReading::from_headers(&h), *want, "{headers:?}");
        }
    }

    #[test]
    fn pacing_decisions() {
        let now = Instant::now();
        let s = Duration::from_secs;
        // (limit, remaining, reset in s, expected wait)
        // (limit, remaining, reset in s, expected wait)
        type Case = (Option<u64>, Option<u64>, Option<u64>, Duration);
        let cases: &[Case] = &[
            (None, None, None, Duration::ZERO),
            (Some(900), Some(500), Some(30), Duration::ZERO),
            (Some(900), Some(90), Some(30), Duration::ZERO),
            (Some(900), Some(89), Some(30), s(30) / 90),
            (Some(900), Some(1), Some(10), s(5)),
            (Some(900), Some(0), Some(10), s(10)),
            (None, Some(0), Some(3), s(3)),
            (Some(900), Some(0), Some(0), Duration::ZERO),
        ];
        for &(limit, remaining, reset, want) in cases {
            let mut st = PaceState::default();
            st.update(
                &RateReading {
                    user_limit: limit,
                    user_remaining: remaining,
                    user_reset: reset,
                    ..Default::default()
                },
                now,
            );
            assert_eq!(st.pace(now, 0.1), want, "{limit:?} {remaining:?} {reset:?}");
        }
    }

    #[test]
    fn a_late_reading_does_not_give_back_slots_spent_by_requests_in_flight() {
        let now = Instant::now();
        let reading = |remaining, reset| RateReading {
            user_limit: Some(900),
            user_remaining: Some(remaining),
            user_reset: Some(reset),
            ..Default::default()
        };
        let mut st = PaceState::default();
        st.update(&reading(10, 30), now);
        for _ in 0..4 {
            st.pace(now, 0.1); // four requests go out at once
        }
        assert_eq!(st.remaining, Some(6));
        // The first answer was made before the other three arrived: it says 9.
        st.update(&reading(9, 30), now + Duration::from_millis(50));
        assert_eq!(
            st.remaining,
            Some(6),
            "the lower count stands in one window"
        );
        // A reading of the next window replaces the count.
        st.update(&reading(899, 60), now + Duration::from_secs(31));
        assert_eq!(st.remaining, Some(899));
    }

    #[test]
    fn pacing_counts_requests_sent_since_the_reading() {
        let now = Instant::now();
        let mut st = PaceState::default();
        st.update(
            &RateReading {
                user_limit: Some(10),
                user_remaining: Some(2),
                user_reset: Some(30),
                ..Default::default()
            },
            now,
        );
        assert_eq!(st.pace(now, 0.1), Duration::ZERO);
        assert_eq!(st.pace(now, 0.1), Duration::ZERO);
        assert_eq!(st.remaining, Some(0));
        assert_eq!(st.pace(now, 0.1), Duration::from_secs(30));
        // Another request asking at the same moment waits for the reset too.
        assert_eq!(st.pace(now, 0.1), Duration::from_secs(30));
        // Once the window has reset, nothing is known until the next answer.
        assert_eq!(st.pace(now + Duration::from_secs(30), 0.1), Duration::ZERO);
        assert_eq!(st.remaining, None);
    }

    #[test]
    fn backoff_table() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let ms = Duration::from_millis;
        let cases: &[(u32, f64, Duration)] = &[
            (0, 0.0, ms(50)),
            (0, 1.0, ms(100)),
            (1, 0.0, ms(100)),
            (1, 0.5, ms(150)),
            (3, 1.0, ms(800)),
            (4, 1.0, ms(1000)),
            (4, 0.0, ms(500)),
            (40, 1.0, ms(1000)),
            (2, 7.0, ms(400)),
        ];
        for &(attempt, jitter, want) in cases {
            assert_eq!(b.delay(attempt, jitter), want, "attempt {attempt}");
        }
    }

    #[test]
    fn waits_after_429() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        let r = RateReading {
            user_reset: Some(2),
            ..Default::default()
        };
        assert_eq!(
            wait_after_429(Some(&r), None, &b, 0, 0.0),
            Duration::from_millis(2050)
        );
        assert_eq!(
            wait_after_429(None, Some(1), &b, 0, 0.0),
            Duration::from_millis(1050)
        );
        assert_eq!(
            wait_after_429(None, None, &b, 2, 1.0),
            Duration::from_millis(400)
        );
    }
}
