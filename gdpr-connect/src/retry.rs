//! Bounded retries with exponential backoff that honour `Retry-After`: the
//! one retry loop of every request the layer sends (API calls, downloads,
//! token requests).

use std::future::Future;
use std::time::Duration;

use gdpr_core::store::StoreError;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::endpoint::HttpOptions;

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    /// Finished (successfully or with an answer the caller judges).
    Done(T),
    /// Failed in a way worth retrying: `detail` says how (no URL, no
    /// value), `after` is the server's `Retry-After`, if it sent one.
    Retry {
        detail: String,
        after: Option<Duration>,
    },
}

/// The longest wait between two attempts when the server names none.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs `attempt` until it is done, fails for good, or `max_attempts` are
/// spent (then [`StoreError::Transient`] with the last failure). Waits
/// between attempts: the server's `Retry-After` when it sent one (a wait
/// longer than [`HttpOptions::max_retry_after`] ends the operation at once),
/// otherwise `backoff`, doubled per attempt, capped at 5 s.
pub(crate) async fn with_retries<T, F, Fut>(
    operation: &'static str,
    options: &HttpOptions,
    mut attempt: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, StoreError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (detail, after) = match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Retry { detail, after } => (detail, after),
        };
        if let Some(wait) = after
            && wait > options.max_retry_after
        {
            return Err(StoreError::Transient {
                operation,
                attempts,
                detail: format!(
                    "{detail}; the server asked to retry after {} s, longer than the {} s \
                     allowed",
                    wait.as_secs(),
                    options.max_retry_after.as_secs()
                ),
            });
        }
        if attempts >= options.max_attempts.max(1) {
            return Err(StoreError::Transient {
                operation,
                attempts,
                detail,
            });
        }
        tokio::time::sleep(after.unwrap_or_else(|| backoff(options, attempts))).await;
    }
}

/// The wait after failed attempt number `attempt` (1-based) when the
/// server names none.
fn backoff(options: &HttpOptions, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(5);
    (options.backoff * factor).min(MAX_BACKOFF)
}

/// The wait a `Retry-After` header asks for: delay-seconds, or an HTTP-date
/// (IMF-fixdate, RFC 9110 §5.6.7) measured from `now`. A date in the past
/// asks for no wait; an unreadable value is ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-12-02T08:00:00Z".parse().unwrap();
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("Wed, 02 Dec 2026 08:00:12 GMT"), now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            retry_after(&headers("Wed, 02 Dec 2026 07:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = HttpOptions::default();
        assert_eq!(backoff(&o, 1), Duration::from_millis(200));
        assert_eq!(backoff(&o, 2), Duration::from_millis(400));
        assert_eq!(backoff(&o, 9), MAX_BACKOFF);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_long_retry_after_ends_the_operation_at_once() {
        let options = HttpOptions::default();
        let mut calls = 0;
        let err = with_retries::<(), _, _>("GET /x", &options, || {
            calls += 1;
            async {
                Ok(Attempt::Retry {
                    detail: "HTTP 503".into(),
                    after: Some(Duration::from_secs(3600)),
                })
            }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, 1);
        let text = err.to_string();
        assert!(
            text.contains("3600 s") && text.contains("HTTP 503"),
            "{text}"
        );
        assert!(err.is_transient());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_short_retry_after_is_waited_for_and_attempts_are_bounded() {
        let options = HttpOptions::default();
        let started = tokio::time::Instant::now();
        let mut calls = 0;
        let err = with_retries::<(), _, _>("GET /x", &options, || {
            calls += 1;
            async {
                Ok(Attempt::Retry {
                    detail: "HTTP 429".into(),
                    after: Some(Duration::from_secs(2)),
                })
            }
        })
        .await
        .unwrap_err();
        assert_eq!(calls, options.max_attempts);
        assert_eq!(started.elapsed(), Duration::from_secs(6));
        assert!(matches!(err, StoreError::Transient { attempts: 4, .. }));
    }
}
