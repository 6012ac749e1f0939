//! The single-runner guard: a `coordination.k8s.io/v1` Lease per app, renewed while a
//! migrate or rollback runs, released when the outcome is known, and kept (handed to the
//! Job, or marked "outcome unknown") while the remote may still be running.

mod holders;
mod observe;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};
use tokio::time::Instant;

use crate::connection::{Connection, chain, classify, is_transient};
use crate::error::Error;
use holders::{Other, judge};
pub use holders::{clear, inspect};
use observe::Observer;

/// What to do when the lease cannot be used because RBAC forbids it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockMode {
    /// Refuse to run without the lock.
    Required,
    /// Warn once and run without it.
    #[default]
    BestEffort,
    /// Do not take a lock.
    Off,
}

/// How long keeping the lock after an unknown outcome is tried: well inside the lease's
/// 30 s, so that a kept lock never lapses in between.
const KEEP_TRYING: Duration = Duration::from_secs(20);

/// How long a lease lives without renewal.
pub const LEASE_SECONDS: i32 = 30;
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// Every lease request gets an answer in this time or counts as failed: well inside the
/// lease's duration, and never retried behind our back (the exec client does not retry).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A kept lease lives this long: only `kmigrate unlock`, or proof that the remote is gone
/// (its pod deleted, its Job finished), ends it sooner.
const KEPT_SECONDS: i32 = 7 * 24 * 3600;
/// Transport failures in a row before taking the lock gives up.
const MAX_TRANSPORT_FAILURES: u32 = 3;

/// Annotation saying why a lease is kept: `unknown` (the outcome of the run is unknown).
pub const STATE_ANNOTATION: &str = "kmigrate.io/state";
/// Annotation naming the pod a kept lease's run was executing in.
pub const POD_ANNOTATION: &str = "kmigrate.io/pod";
/// Annotation with that pod's UID (a pod recreated under the same name is another pod).
pub const POD_UID_ANNOTATION: &str = "kmigrate.io/pod-uid";
/// Annotation with the time the outcome became unknown.
pub const SINCE_ANNOTATION: &str = "kmigrate.io/since";
/// Annotation with why the outcome became unknown (interrupted, timed out, connection lost).
pub const CAUSE_ANNOTATION: &str = "kmigrate.io/cause";
/// The holder of a lease handed to a Job: `job/<name>`.
pub const JOB_HOLDER_PREFIX: &str = "job/";

/// A held lease; end it with [`Held::release`] or [`Held::keep`].
pub struct Held {
    api: Api<Lease>,
    name: String,
    holder: String,
    lost: Arc<Mutex<Option<String>>>,
    renewer: tokio::task::JoinHandle<()>,
}

/// Why a lease is kept after the run: the remote may still be running.
pub enum Kept<'a> {
    /// A Job was (or may have been) created: the lease goes to the Job.
    Job(&'a str),
    /// An exec in this pod (name, UID) ended without a known outcome.
    Unknown {
        /// The pod.
        pod: &'a str,
        /// Its UID, when known.
        uid: Option<&'a str>,
        /// Why the outcome is unknown: `interrupted by SIGINT`, `timed out after 2s`.
        cause: &'a str,
    },
}

/// Longest Lease name (a DNS-1123 subdomain).
const MAX_LEASE_NAME: usize = 253;

/// The Lease name for an app or workload: `kmigrate-<key>`, with `_` made `-`. A key that
/// does not make a valid name so (an app ending in `_`, a name too long) is cut to fit and
/// ends in a hash of the whole key, so that keys cut alike still get names of their own.
pub fn lease_name(key: &str) -> String {
    let plain = format!("kmigrate-{}", key.replace('_', "-"));
    if is_lease_name(&plain) {
        return plain;
    }
    let hash = format!("{:08x}", fnv1a(key.as_bytes()));
    let room = MAX_LEASE_NAME - "kmigrate--".len() - hash.len();
    let cut: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .take(room)
        .collect();
    format!("kmigrate-{}-{hash}", cut.trim_end_matches('-'))
}

/// A DNS-1123 subdomain, as the API server checks object names: at most 253 characters,
/// dot-separated parts of lowercase letters, digits and `-` that start and end with a
/// letter or digit.
fn is_lease_name(name: &str) -> bool {
    let alnum = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    name.len() <= MAX_LEASE_NAME
        && name.split('.').all(|part| {
            let b = part.as_bytes();
            alnum(b.first().copied())
                && alnum(b.last().copied())
                && b.iter()
                    .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

/// A stable short hash (FNV-1a), to tell apart names cut to fit.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Who holds a lock: `user@host pid N #nonce`. The nonce keeps two processes apart that
/// share user, host name and PID (two CI containers).
pub fn holder_identity(user: &str, host: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_i128(Timestamp::now().as_nanosecond());
    format!(
        "{user}@{host} pid {} #{:08x}",
        std::process::id(),
        h.finish() & 0xffff_ffff
    )
}

fn ours(holder: &str, now: Timestamp, previous: Option<&LeaseSpec>) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.to_owned()),
        lease_duration_seconds: Some(LEASE_SECONDS),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(
            previous.and_then(|p| p.lease_transitions).unwrap_or(0) + i32::from(previous.is_some()),
        ),
        ..LeaseSpec::default()
    }
}

async fn timed<T>(f: impl Future<Output = Result<T, kube::Error>>) -> Result<T, kube::Error> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(kube::Error::Service(Box::new(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer in {}s", REQUEST_TIMEOUT.as_secs()),
        )))),
    }
}

/// Take the lease, or fail with the holder's name. With `wait`, poll until `wait` elapses.
/// Returns `None` when the lock is off, or forbidden in best-effort mode (after a warning).
///
/// The wait polls (a GET a second) rather than watching the Lease: the Role grants no
/// `watch`, a free lock is taken with an update that must carry the version just read
/// anyway, and a holder's staleness is judged on the clock, not on events.
pub async fn acquire(
    conn: &Connection,
    namespace: &str,
    name: &str,
    holder: &str,
    mode: LockMode,
    wait: Option<Duration>,
    warn: &dyn Fn(&str),
) -> Result<Option<Held>> {
    if mode == LockMode::Off {
        return Ok(None);
    }
    let api: Api<Lease> = Api::namespaced(conn.exec_client.clone(), namespace);
    let started = Instant::now();
    let mut observer = Observer::default();
    let mut said = std::collections::BTreeSet::new();
    let mut say_once = |msg: String| {
        if said.insert(msg.clone()) {
            warn(&msg);
        }
    };
    let mut transport_failures = 0;
    let mut watching_since: Option<Instant> = None;
    loop {
        let attempt = match timed(api.get_opt(name)).await {
            Ok(None) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.to_owned()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(ours(holder, Timestamp::now(), None)),
                };
                timed(api.create(&PostParams::default(), &lease))
                    .await
                    .map(drop)
            }
            Ok(Some(mut lease)) => {
                let spec = lease.spec.clone().unwrap_or_default();
                let current = spec.holder_identity.clone().filter(|h| !h.is_empty());
                match current {
                    // Ours already: an earlier create went through although its answer was lost.
                    Some(h) if h == holder => break,
                    None => {}
                    Some(other) => {
                        let blocked = match judge(
                            conn,
                            namespace,
                            name,
                            &lease,
                            &other,
                            &mut observer,
                        )
                        .await?
                        {
                            Other::Takeable(note) => {
                                say_once(note);
                                None
                            }
                            Other::Watching(note) => {
                                say_once(note);
                                // Unchanged for a lease duration, it would be expired by now:
                                // one that still changes after two is renewed by a holder whose
                                // clock differs from ours. Held, then: never watched forever.
                                let since = *watching_since.get_or_insert_with(Instant::now);
                                if since.elapsed() < 2 * observe::duration(&spec) {
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                    continue;
                                }
                                Some(format!(
                                    "held by {other}: its timestamps look stale, but it kept changing for {}s, so its holder renews it (their clock differs from ours)",
                                    since.elapsed().as_secs()
                                ))
                            }
                            Other::Blocked(msg) => Some(msg),
                        };
                        if let Some(msg) = blocked {
                            match wait {
                                Some(limit) if started.elapsed() < limit => {
                                    say_once(format!("waiting for the lock {name}: {msg}"));
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                    continue;
                                }
                                _ => {
                                    // A run that is still going can be waited for; a lock kept
                                    // for an unknown outcome says what to do instead.
                                    let kept = lease
                                        .metadata
                                        .annotations
                                        .as_ref()
                                        .and_then(|a| a.get(STATE_ANNOTATION))
                                        .is_some_and(|s| s == "unknown");
                                    let or_wait = if wait.is_none() && !kept {
                                        "; or pass --wait to wait for it to end"
                                    } else {
                                        ""
                                    };
                                    return Err(Error::Locked(format!(
                                    "another run holds the lock {name} in namespace {namespace}: {msg}{or_wait}"
                                ))
                                .into());
                                }
                            }
                        }
                    }
                }
                lease.spec = Some(ours(holder, Timestamp::now(), Some(&spec)));
                if let Some(a) = lease.metadata.annotations.as_mut() {
                    for key in [
                        STATE_ANNOTATION,
                        POD_ANNOTATION,
                        POD_UID_ANNOTATION,
                        SINCE_ANNOTATION,
                        CAUSE_ANNOTATION,
                    ] {
                        a.remove(key);
                    }
                }
                timed(api.replace(name, &PostParams::default(), &lease))
                    .await
                    .map(drop)
            }
            Err(e) => Err(e),
        };
        match attempt {
            Ok(()) => break,
            // Someone else created or changed it between our read and write: look again.
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 403 && mode == LockMode::BestEffort => {
                warn(&format!(
                    "note: running without the single-runner lock: {}",
                    s.message
                ));
                return Ok(None);
            }
            // The write may have happened: read again; finding our own lease is success.
            Err(e) if is_transient(&e) && transport_failures < MAX_TRANSPORT_FAILURES => {
                transport_failures += 1;
                tracing::info!(error = %chain(&e), "lock request failed; reading the lease again");
            }
            Err(e) => return Err(classify(e, &format!("take the lock {name}"), conn)),
        }
    }
    let lost = Arc::new(Mutex::new(None));
    let renewer = tokio::spawn(renew(
        api.clone(),
        name.to_owned(),
        holder.to_owned(),
        Arc::clone(&lost),
    ));
    Ok(Some(Held {
        api,
        name: name.to_owned(),
        holder: holder.to_owned(),
        lost,
        renewer,
    }))
}

async fn renew(api: Api<Lease>, name: String, holder: String, lost: Arc<Mutex<Option<String>>>) {
    let mut last_ok = Instant::now();
    let lease_life = Duration::from_secs(LEASE_SECONDS as u64);
    let lose = |why: String| {
        tracing::warn!(lease = %name, "lost the lock: {why}");
        if let Ok(mut l) = lost.lock() {
            *l = Some(why);
        }
    };
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let failure = match timed(api.get_opt(&name)).await {
            Ok(Some(mut lease)) => {
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if spec.holder_identity.as_deref() != Some(holder.as_str()) {
                    let other = spec.holder_identity.clone().unwrap_or_default();
                    return lose(format!("another run took it over ({other})"));
                }
                spec.renew_time = Some(MicroTime(Timestamp::now()));
                match timed(api.replace(&name, &PostParams::default(), &lease)).await {
                    Ok(_) => {
                        last_ok = Instant::now();
                        continue;
                    }
                    Err(e) => chain(&e),
                }
            }
            Ok(None) => return lose("the lease was deleted".to_owned()),
            Err(e) => chain(&e),
        };
        tracing::warn!(lease = %name, error = %failure, "could not renew the lock");
        if last_ok.elapsed() >= lease_life {
            return lose(format!(
                "it could not be renewed for {LEASE_SECONDS}s ({failure})"
            ));
        }
    }
}

impl Held {
    /// Why the lock was lost, if it was.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }

    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stop renewing and delete the lease if it is still ours.
    pub async fn release(self) {
        self.renewer.abort();
        let release = async {
            let lease = self.api.get_opt(&self.name).await.ok().flatten()?;
            let spec = lease.spec.as_ref()?;
            if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
                return None;
            }
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: lease.metadata.uid.clone(),
                    resource_version: lease.metadata.resource_version.clone(),
                }),
                ..DeleteParams::default()
            };
            self.api.delete(&self.name, &dp).await.ok()
        };
        if tokio::time::timeout(Duration::from_secs(5), release)
            .await
            .is_err()
        {
            tracing::warn!(lease = %self.name, "could not release the lock in time; it expires in {LEASE_SECONDS}s");
        }
    }

    /// Stop renewing but keep the guard: hand the lease to the Job, or mark it "outcome
    /// unknown" with the pod. Returns an error message when the lease could not be written
    /// (it then expires in [`LEASE_SECONDS`]).
    pub async fn keep(self, kept: Kept<'_>) -> Result<(), String> {
        self.renewer.abort();
        // Right after a lost connection the first try often fails too: try again, within
        // the time the lease still lives, unless the answer is final.
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            match self.keep_once(&kept).await {
                Ok(()) => return Ok(()),
                Err((e, true)) if started.elapsed() < KEEP_TRYING => {
                    tracing::info!(error = %e, tries, "keeping the lock failed; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err((e, _)) => {
                    return Err(format!(
                        "{e}; {tries} tries in {} s",
                        started.elapsed().as_secs()
                    ));
                }
            }
        }
    }

    /// One try of [`Held::keep`]; the error says whether another try may succeed.
    async fn keep_once(&self, kept: &Kept<'_>) -> Result<(), (String, bool)> {
        let keep = async {
            let mut lease = timed(self.api.get_opt(&self.name))
                .await
                .map_err(|e| (chain(&e), true))?
                .ok_or(("the lease is gone".to_owned(), false))?;
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
                return Err(("another run holds it now".to_owned(), false));
            }
            spec.lease_duration_seconds = Some(KEPT_SECONDS);
            spec.renew_time = Some(MicroTime(Timestamp::now()));
            let annotations = lease.metadata.annotations.get_or_insert_with(BTreeMap::new);
            match *kept {
                Kept::Job(job) => spec.holder_identity = Some(format!("{JOB_HOLDER_PREFIX}{job}")),
                Kept::Unknown { pod, uid, cause } => {
                    annotations.insert(STATE_ANNOTATION.to_owned(), "unknown".to_owned());
                    annotations.insert(CAUSE_ANNOTATION.to_owned(), cause.to_owned());
                    if !pod.is_empty() {
                        annotations.insert(POD_ANNOTATION.to_owned(), pod.to_owned());
                    }
                    if let Some(uid) = uid {
                        annotations.insert(POD_UID_ANNOTATION.to_owned(), uid.to_owned());
                    }
                    annotations.insert(SINCE_ANNOTATION.to_owned(), Timestamp::now().to_string());
                }
            }
            timed(self.api.replace(&self.name, &PostParams::default(), &lease))
                .await
                .map(drop)
                .map_err(|e| (chain(&e), true))
        };
        keep.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe() {
        assert_eq!(lease_name("my_app"), "kmigrate-my-app");
        assert_eq!(lease_name("shop-web.v2"), "kmigrate-shop-web.v2");
        // An app may end in `_`, and be up to 255 bytes long; a Deployment name 253.
        let trailing = lease_name("shop_");
        assert!(is_lease_name(&trailing), "{trailing}");
        assert!(trailing.starts_with("kmigrate-shop-"), "{trailing}");
        assert_ne!(trailing, lease_name("shop"));
        assert_ne!(trailing, lease_name("shop__"));
        let long = lease_name(&"a".repeat(255));
        assert!(
            is_lease_name(&long) && long.len() == MAX_LEASE_NAME,
            "{long}"
        );
        assert_ne!(long, lease_name(&"a".repeat(254)), "cut alike, named apart");
        let deployment = format!("{}.{}", "d".repeat(200), "e".repeat(52));
        assert!(is_lease_name(&lease_name(&deployment)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// Whatever the key, the API server takes the name.
        #[test]
        fn every_key_makes_a_valid_name(key in "\\PC{0,300}") {
            let name = lease_name(&key);
            proptest::prop_assert!(is_lease_name(&name), "{:?} -> {:?}", key, name);
        }

        /// An app's name is unchanged where it was already valid.
        #[test]
        fn valid_app_names_keep_their_lease(app in "[a-z][a-z0-9_]{0,40}[a-z0-9]") {
            proptest::prop_assert_eq!(lease_name(&app), format!("kmigrate-{}", app.replace('_', "-")));
        }
    }

    #[test]
    fn holders_differ_even_with_the_same_user_host_and_pid() {
        let a = holder_identity("ci", "runner");
        let b = holder_identity("ci", "runner");
        assert!(a.starts_with("ci@runner pid "), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn taking_over_counts_a_transition() {
        let now = Timestamp::from_second(5).unwrap();
        assert_eq!(ours("me", now, None).lease_transitions, Some(0));
        let prev = LeaseSpec {
            lease_transitions: Some(2),
            ..LeaseSpec::default()
        };
        assert_eq!(ours("me", now, Some(&prev)).lease_transitions, Some(3));
    }
}
