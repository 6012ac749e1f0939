//! Whether a Lease held by someone else may be taken over, decided as client-go's leader
//! election does: by how long the observed record stayed unchanged on our own monotonic
//! clock, never by comparing the holder's timestamps with our wall clock.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::jiff::Timestamp;
use tokio::time::Instant;

use super::LEASE_SECONDS;

/// What the observer makes of the lease it just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Renewed within its duration as far as we can tell: someone holds it.
    Held,
    /// Its timestamps look stale, but we have not yet watched it unchanged for a whole
    /// lease duration: keep watching before taking it over.
    Watching,
    /// Unchanged for a whole lease duration on our clock: the holder is gone.
    Expired,
}

/// The record last seen and when we first saw it.
#[derive(Debug, Default)]
pub struct Observer {
    seen: Option<(String, Instant)>,
}

impl Observer {
    /// Judge the lease read at `now` (monotonic) and `wall` (wall clock, a hint only).
    pub fn judge(
        &mut self,
        version: &str,
        spec: &LeaseSpec,
        now: Instant,
        wall: Timestamp,
    ) -> Verdict {
        let first_seen = match &self.seen {
            Some((v, at)) if v == version => *at,
            _ => {
                self.seen = Some((version.to_owned(), now));
                now
            }
        };
        if now.duration_since(first_seen) >= duration(spec) {
            return Verdict::Expired;
        }
        if looks_stale(spec, wall) {
            Verdict::Watching
        } else {
            Verdict::Held
        }
    }
}

/// The lease's duration, as its holder wrote it.
pub fn duration(spec: &LeaseSpec) -> Duration {
    let secs = spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS).max(1);
    Duration::from_secs(u64::try_from(secs).unwrap_or(1))
}

/// By the timestamps, the holder stopped renewing (only a reason to start watching:
/// the holder's clock and ours may disagree).
fn looks_stale(spec: &LeaseSpec, wall: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let ttl = i64::try_from(duration(spec).as_secs()).unwrap_or(i64::MAX);
    renewed.0.as_second().saturating_add(ttl) < wall.as_second()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn spec(renewed: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some("other".into()),
            renew_time: Some(MicroTime(Timestamp::from_second(renewed).unwrap())),
            lease_duration_seconds: Some(30),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_live_holder_with_a_slow_clock_is_never_taken_over() {
        // The holder's clock is 41 s behind ours: its fresh renewals look stale.
        let wall = Timestamp::from_second(10_041).unwrap();
        let t0 = Instant::now();
        let mut o = Observer::default();
        assert_eq!(o.judge("1", &spec(10_000), t0, wall), Verdict::Watching);
        // It renews every 10 s: the record changes, so the watch starts again.
        for (i, rv) in ["2", "3", "4", "5"].iter().enumerate() {
            let at = t0 + Duration::from_secs(10 * (i as u64 + 1));
            assert_eq!(o.judge(rv, &spec(10_000), at, wall), Verdict::Watching);
        }
    }

    #[test]
    fn a_record_unchanged_for_its_duration_expires_whatever_the_clocks_say() {
        // Timestamps that look fresh to us (the holder's clock is ahead) do not keep a
        // dead lease alive once we watched it unchanged long enough.
        let wall = Timestamp::from_second(1_000).unwrap();
        let t0 = Instant::now();
        let mut o = Observer::default();
        assert_eq!(o.judge("7", &spec(1_100), t0, wall), Verdict::Held);
        assert_eq!(
            o.judge("7", &spec(1_100), t0 + Duration::from_secs(29), wall),
            Verdict::Held
        );
        assert_eq!(
            o.judge("7", &spec(1_100), t0 + Duration::from_secs(30), wall),
            Verdict::Expired
        );
    }

    #[test]
    fn stale_timestamps_only_start_a_watch() {
        let wall = Timestamp::from_second(5_000).unwrap();
        let t0 = Instant::now();
        let mut o = Observer::default();
        assert_eq!(o.judge("1", &spec(1_000), t0, wall), Verdict::Watching);
        assert_eq!(
            o.judge("1", &spec(1_000), t0 + Duration::from_secs(30), wall),
            Verdict::Expired
        );
        assert_eq!(
            Observer::default().judge("1", &LeaseSpec::default(), t0, wall),
            Verdict::Watching
        );
    }
}
