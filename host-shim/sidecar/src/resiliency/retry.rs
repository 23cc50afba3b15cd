//! Retry policies: constant or exponential back-off, retry limits and status-code matching.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// dapr/kit's defaults (`retry.DefaultConfig`, cenkalti/backoff's exponential values).
pub const DEFAULT_CONSTANT_DURATION: Duration = Duration::from_secs(5);
pub const EXPONENTIAL_INITIAL_INTERVAL: Duration = Duration::from_millis(500);
pub const EXPONENTIAL_MULTIPLIER: f64 = 1.5;
/// Each exponential delay is drawn from `[interval·(1-f), interval·(1+f)]`.
pub const EXPONENTIAL_RANDOMIZATION_FACTOR: f64 = 0.5;
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_secs(60);
/// daprd also stops an exponential policy once this much time has passed
/// since the first attempt; callers that want that bound can apply it.
pub const EXPONENTIAL_MAX_ELAPSED: Duration = Duration::from_secs(15 * 60);

const HTTP_CODES: (u16, u16) = (100, 599);
const GRPC_CODES: (u16, u16) = (0, 16);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    Constant { duration: Duration },
    Exponential { max_interval: Duration },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub kind: Backoff,
    /// `None` retries forever (`maxRetries: -1`, the default).
    pub max_retries: Option<u32>,
    /// `matching.httpStatusCodes`; `None` retries every failure.
    pub matching: Option<StatusMatcher>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::constant(DEFAULT_CONSTANT_DURATION, None)
    }
}

impl RetryPolicy {
    pub fn constant(duration: Duration, max_retries: Option<u32>) -> Self {
        Self {
            kind: Backoff::Constant { duration },
            max_retries,
            matching: None,
        }
    }

    pub fn exponential(max_interval: Duration, max_retries: Option<u32>) -> Self {
        Self {
            kind: Backoff::Exponential { max_interval },
            max_retries,
            matching: None,
        }
    }

    pub fn with_matching(mut self, matching: StatusMatcher) -> Self {
        self.matching = Some(matching);
        self
    }

    /// The wait before retry `retry_number` (0 = before the first retry),
    /// without jitter: 500ms·1.5ⁿ capped at `max_interval` for exponential.
    pub fn base_delay(&self, retry_number: u32) -> Duration {
        match self.kind {
            Backoff::Constant { duration } => duration,
            // cenkalti/backoff hands out the initial interval first and only
            // caps the intervals that follow.
            Backoff::Exponential { .. } if retry_number == 0 => EXPONENTIAL_INITIAL_INTERVAL,
            Backoff::Exponential { max_interval } => {
                let exponent = i32::try_from(retry_number).unwrap_or(i32::MAX);
                let grown = EXPONENTIAL_INITIAL_INTERVAL.as_secs_f64()
                    * EXPONENTIAL_MULTIPLIER.powi(exponent);
                if grown >= max_interval.as_secs_f64() {
                    max_interval
                } else {
                    Duration::from_secs_f64(grown)
                }
            }
        }
    }

    /// The wait before retry `retry_number` (0 = before the first retry);
    /// exponential delays carry ±50% jitter around [`Self::base_delay`].
    pub fn delay(&self, retry_number: u32) -> Duration {
        let base = self.base_delay(retry_number);
        match self.kind {
            Backoff::Constant { .. } => base,
            Backoff::Exponential { .. } => {
                let spread = 2.0 * EXPONENTIAL_RANDOMIZATION_FACTOR * unit_random();
                base.mul_f64(1.0 - EXPONENTIAL_RANDOMIZATION_FACTOR + spread)
            }
        }
    }

    /// Whether another attempt may follow `retries_done` retries that ended
    /// with `status`. Without a status (connection error, timeout) the
    /// matcher does not apply, as daprd only filters errors carrying a code.
    pub fn allows_retry(&self, retries_done: u32, status: Option<u16>) -> bool {
        if self.max_retries.is_some_and(|max| retries_done >= max) {
            return false;
        }
        match (status, &self.matching) {
            (Some(code), Some(matcher)) => matcher.matches(code),
            _ => true,
        }
    }
}

/// A list of status codes and inclusive ranges, such as `"429,500-599"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMatcher {
    ranges: Vec<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid status codes {spec:?}: {reason}")]
pub struct StatusMatcherError {
    pub spec: String,
    pub reason: String,
}

impl StatusMatcher {
    /// HTTP status codes (100–599).
    pub fn parse(spec: &str) -> Result<Self, StatusMatcherError> {
        Self::parse_within(spec, HTTP_CODES)
    }

    /// gRPC status codes (0–16); parsed to validate resources, not used by
    /// this HTTP-only sidecar.
    pub fn parse_grpc(spec: &str) -> Result<Self, StatusMatcherError> {
        Self::parse_within(spec, GRPC_CODES)
    }

    pub fn matches(&self, code: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(low, high)| low <= code && code <= high)
    }

    fn parse_within(spec: &str, (min, max): (u16, u16)) -> Result<Self, StatusMatcherError> {
        let fail = |reason: String| StatusMatcherError {
            spec: spec.to_string(),
            reason,
        };
        let code = |text: &str| {
            let value: u16 = text
                .parse()
                .map_err(|_| fail(format!("{text:?} is not a status code (no spaces allowed)")))?;
            if value < min || value > max {
                return Err(fail(format!("{value} is outside {min}-{max}")));
            }
            Ok(value)
        };
        let mut ranges = Vec::new();
        // daprd skips empty items, so "429,,500" is fine.
        for item in spec.split(',').filter(|item| !item.is_empty()) {
            let range = match item.split_once('-') {
                None => (code(item)?, code(item)?),
                Some((low, high)) => (code(low)?, code(high)?),
            };
            if range.0 > range.1 {
                return Err(fail(format!("range {item:?} starts after it ends")));
            }
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err(fail("no status codes given".to_string()));
        }
        Ok(Self { ranges })
    }
}

/// A uniform value in `[0, 1)`: splitmix64 over the clock and a counter, so
/// concurrent callers do not draw the same jitter.
fn unit_random() -> f64 {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let mut z = clock ^ SEQUENCE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_parses_codes_and_ranges() {
        let matcher = StatusMatcher::parse("429,500-599").unwrap();
        assert!(matcher.matches(429));
        assert!(matcher.matches(500));
        assert!(matcher.matches(503));
        assert!(matcher.matches(599));
        assert!(!matcher.matches(404));
        assert!(!matcher.matches(428));
        assert!(!matcher.matches(200));
        assert!(StatusMatcher::parse("429,,503").unwrap().matches(503));
    }

    #[test]
    fn matcher_rejects_invalid_specs() {
        let cases = [
            ("", "no status codes"),
            ("abc", "not a status code"),
            ("429, 500", "no spaces"),
            ("600", "outside 100-599"),
            ("99", "outside 100-599"),
            ("599-500", "starts after it ends"),
            ("500-550-599", "not a status code"),
            ("500-", "not a status code"),
        ];
        for (spec, reason) in cases {
            let error = StatusMatcher::parse(spec).expect_err(spec);
            assert!(error.to_string().contains(reason), "{spec}: {error}");
        }
        assert!(StatusMatcher::parse_grpc("1-4,8-11,13,14").is_ok());
        assert!(StatusMatcher::parse_grpc("17").is_err());
    }

    #[test]
    fn constant_delay_is_fixed() {
        let policy = RetryPolicy::constant(Duration::from_secs(2), Some(3));
        for n in 0..5 {
            assert_eq!(policy.delay(n), Duration::from_secs(2));
        }
    }

    #[test]
    fn exponential_base_delay_grows_by_half_and_caps() {
        let policy = RetryPolicy::exponential(Duration::from_secs(15), None);
        let millis: Vec<u128> = (0..12).map(|n| policy.base_delay(n).as_millis()).collect();
        assert_eq!(millis[..4], [500, 750, 1125, 1687]);
        assert_eq!(millis[9], 15_000);
        assert_eq!(policy.base_delay(u32::MAX), Duration::from_secs(15));
    }

    #[test]
    fn exponential_delays_stay_within_jitter_bounds() {
        let max_interval = Duration::from_secs(10);
        let policy = RetryPolicy::exponential(max_interval, None);
        for n in 0..20u32 {
            let nominal = if n == 0 {
                0.5
            } else {
                (0.5 * 1.5f64.powi(n as i32)).min(max_interval.as_secs_f64())
            };
            for _ in 0..50 {
                let delay = policy.delay(n).as_secs_f64();
                assert!(
                    delay >= nominal * 0.5 - 1e-9 && delay <= nominal * 1.5 + 1e-9,
                    "retry {n}: {delay}s vs {nominal}s"
                );
            }
        }
    }

    #[test]
    fn exponential_delays_are_jittered() {
        let policy = RetryPolicy::exponential(DEFAULT_MAX_INTERVAL, None);
        let draws: std::collections::BTreeSet<u128> =
            (0..20).map(|_| policy.delay(3).as_nanos()).collect();
        assert!(draws.len() > 1, "20 draws gave one value");
    }

    #[test]
    fn max_retries_bounds_the_attempts() {
        let policy = RetryPolicy::constant(Duration::ZERO, Some(2));
        assert!(policy.allows_retry(0, None));
        assert!(policy.allows_retry(1, Some(500)));
        assert!(!policy.allows_retry(2, Some(500)));
        assert!(!RetryPolicy::constant(Duration::ZERO, Some(0)).allows_retry(0, None));
        assert!(RetryPolicy::default().allows_retry(1_000_000, Some(500)));
    }

    #[test]
    fn matcher_limits_which_statuses_are_retried() {
        let policy =
            RetryPolicy::default().with_matching(StatusMatcher::parse("429,500-599").unwrap());
        assert!(policy.allows_retry(0, Some(503)));
        assert!(policy.allows_retry(0, Some(429)));
        assert!(!policy.allows_retry(0, Some(400)));
        assert!(!policy.allows_retry(0, Some(409)));
        assert!(
            policy.allows_retry(0, None),
            "connection errors carry no status and are retried"
        );
    }

    #[test]
    fn defaults_match_dapr() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.kind,
            Backoff::Constant {
                duration: Duration::from_secs(5)
            }
        );
        assert_eq!(policy.max_retries, None);
        assert_eq!(policy.matching, None);
    }
}
