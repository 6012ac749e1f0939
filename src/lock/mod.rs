//! The single-runner guard: a `coordination.k8s.io/v1` Lease per app, renewed while a
//! migrate or rollback runs, released when the outcome is known, and kept (handed to the
//! Job, or marked "outcome unknown") while the remote may still be running.

mod observe;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};
use tokio::time::Instant;

use crate::connection::{Connection, chain, classify, is_transient};
use crate::error::Error;
use observe::{Observer, Verdict};

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
    },
}

/// The Lease name for an app: `kmigrate-<app>`, with `_` made DNS-safe.
pub fn lease_name(app: &str) -> String {
    format!("kmigrate-{}", app.replace('_', "-"))
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

/// What another holder's lease means for us.
enum Other {
    /// It may be taken; the note says why.
    Takeable(String),
    /// Someone holds it: the message says who and what to do.
    Blocked(String),
    /// Its timestamps look stale: watch it a while longer before deciding.
    Watching(String),
}

/// Take the lease, or fail with the holder's name. With `wait`, poll until `wait` elapses.
/// Returns `None` when the lock is off, or forbidden in best-effort mode (after a warning).
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
                        match judge(conn, namespace, name, &lease, &other, &mut observer).await? {
                            Other::Takeable(note) => say_once(note),
                            Other::Watching(note) => {
                                say_once(note);
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                continue;
                            }
                            Other::Blocked(msg) => match wait {
                                Some(limit) if started.elapsed() < limit => {
                                    say_once(format!("waiting for the lock {name}: {msg}"));
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                    continue;
                                }
                                _ => {
                                    return Err(Error::Locked(format!(
                                    "another run holds the lock {name} in namespace {namespace}: {msg}"
                                ))
                                .into());
                                }
                            },
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

/// Decide about a lease someone else holds.
async fn judge(
    conn: &Connection,
    namespace: &str,
    name: &str,
    lease: &Lease,
    other: &str,
    observer: &mut Observer,
) -> Result<Other> {
    let annotations = lease.metadata.annotations.clone().unwrap_or_default();
    if annotations.get(STATE_ANNOTATION).map(String::as_str) == Some("unknown") {
        return Ok(
            match kept_for_unknown(conn, namespace, other, &annotations).await? {
                Other::Takeable(why) => {
                    Other::Takeable(format!("taking over the lock {name}: {why}"))
                }
                kept => kept,
            },
        );
    }
    if let Some(job) = other.strip_prefix(JOB_HOLDER_PREFIX) {
        let jobs: Api<Job> = Api::namespaced(conn.client.clone(), namespace);
        let found = jobs.get_opt(job).await.map_err(|e| {
            classify(
                e,
                &format!("get job {job} (holder of the lock {name})"),
                conn,
            )
        })?;
        return Ok(match found {
            Some(j) if !job_finished(&j) => Other::Blocked(format!(
                "held by Job {job}, still active; follow it with `kmigrate logs {job}`"
            )),
            Some(_) => Other::Takeable(format!(
                "taking over the lock {name} from Job {job}, which has finished"
            )),
            None => Other::Takeable(format!(
                "taking over the lock {name} from Job {job}, which no longer exists"
            )),
        });
    }
    let spec = lease.spec.clone().unwrap_or_default();
    let since = spec
        .acquire_time
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_else(|| "?".into());
    let version = lease.metadata.resource_version.clone().unwrap_or_default();
    Ok(
        match observer.judge(&version, &spec, Instant::now(), Timestamp::now()) {
            Verdict::Held => Other::Blocked(format!("{other}, since {since}")),
            Verdict::Watching => Other::Watching(format!(
                "the lock {name} held by {other} looks abandoned (not renewed by its clock); watching it for {}s before taking it over",
                observe::duration(&spec).as_secs()
            )),
            Verdict::Expired => {
                Other::Takeable(format!("taking over the expired lock {name} from {other}"))
            }
        },
    )
}

/// A lease kept after a run whose outcome is unknown: taken only once its pod is gone.
async fn kept_for_unknown(
    conn: &Connection,
    namespace: &str,
    other: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<Other> {
    let since = annotations
        .get(SINCE_ANNOTATION)
        .map_or("?", String::as_str);
    let Some(pod) = annotations.get(POD_ANNOTATION) else {
        return Ok(Other::Blocked(unknown_message(
            other,
            "an unknown pod",
            since,
        )));
    };
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let found = pods
        .get_opt(pod)
        .await
        .map_err(|e| classify(e, &format!("get pod {pod}"), conn))?;
    let same = found.is_some_and(|p| {
        annotations
            .get(POD_UID_ANNOTATION)
            .is_none_or(|uid| p.metadata.uid.as_deref() == Some(uid))
    });
    Ok(if same {
        Other::Blocked(unknown_message(other, &format!("pod {pod}"), since))
    } else {
        Other::Takeable(format!(
            "{other} lost its connection at {since}, but its pod {pod} is gone, and its command with it"
        ))
    })
}

fn unknown_message(holder: &str, place: &str, since: &str) -> String {
    format!(
        "{holder} lost its connection to {place} at {since} and the outcome is unknown; \
         check `kmigrate status`, then clear the lock with `kmigrate unlock`"
    )
}

/// Whether a Job has a Complete or Failed condition.
pub fn job_finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        })
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
        let keep = async {
            let mut lease = timed(self.api.get_opt(&self.name))
                .await
                .map_err(|e| chain(&e))?
                .ok_or("the lease is gone")?;
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
                return Err("another run holds it now".to_owned());
            }
            spec.lease_duration_seconds = Some(KEPT_SECONDS);
            spec.renew_time = Some(MicroTime(Timestamp::now()));
            let annotations = lease.metadata.annotations.get_or_insert_with(BTreeMap::new);
            match kept {
                Kept::Job(job) => spec.holder_identity = Some(format!("{JOB_HOLDER_PREFIX}{job}")),
                Kept::Unknown { pod, uid } => {
                    annotations.insert(STATE_ANNOTATION.to_owned(), "unknown".to_owned());
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
                .map_err(|e| chain(&e))
        };
        keep.await
    }
}

/// A lease as `kmigrate unlock` shows it.
pub struct Found {
    /// The holder.
    pub holder: String,
    /// What is known, as (label, value) lines.
    pub facts: Vec<(&'static str, String)>,
    uid: Option<String>,
    version: Option<String>,
}

/// Read the lease and what is known about its holder; `None` when there is none.
pub async fn inspect(conn: &Connection, namespace: &str, name: &str) -> Result<Option<Found>> {
    let api: Api<Lease> = Api::namespaced(conn.client.clone(), namespace);
    let Some(lease) = api
        .get_opt(name)
        .await
        .map_err(|e| classify(e, &format!("get the lock {name}"), conn))?
    else {
        return Ok(None);
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let time = |t: &Option<MicroTime>| t.as_ref().map_or("?".to_owned(), |t| t.0.to_string());
    let mut facts = vec![
        ("lock", name.to_owned()),
        ("holder", holder.clone()),
        ("acquired", time(&spec.acquire_time)),
        ("renewed", time(&spec.renew_time)),
    ];
    let annotations = lease.metadata.annotations.clone().unwrap_or_default();
    let state = if annotations.get(STATE_ANNOTATION).map(String::as_str) == Some("unknown") {
        match kept_for_unknown(conn, namespace, &holder, &annotations).await? {
            Other::Takeable(note) | Other::Blocked(note) | Other::Watching(note) => note,
        }
    } else if let Some(job) = holder.strip_prefix(JOB_HOLDER_PREFIX) {
        let jobs: Api<Job> = Api::namespaced(conn.client.clone(), namespace);
        match jobs.get_opt(job).await {
            Ok(Some(j)) if job_finished(&j) => format!("Job {job} has finished"),
            Ok(Some(_)) => format!("Job {job} is still active: `kmigrate logs {job}`"),
            Ok(None) => format!("Job {job} no longer exists"),
            Err(e) => format!("Job {job}: cannot be read ({e})"),
        }
    } else {
        let mut observer = Observer::default();
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        match observer.judge(&version, &spec, Instant::now(), Timestamp::now()) {
            Verdict::Held => {
                "renewed within its duration: a run is probably still going".to_owned()
            }
            _ => "not renewed within its duration by its holder's clock: the holder looks gone"
                .to_owned(),
        }
    };
    facts.push(("state", state));
    Ok(Some(Found {
        holder,
        facts,
        uid: lease.metadata.uid.clone(),
        version: lease.metadata.resource_version.clone(),
    }))
}

/// Delete the lease as it was read: if it changed since, nothing is deleted.
pub async fn clear(conn: &Connection, namespace: &str, name: &str, found: &Found) -> Result<()> {
    let api: Api<Lease> = Api::namespaced(conn.exec_client.clone(), namespace);
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: found.uid.clone(),
            resource_version: found.version.clone(),
        }),
        ..DeleteParams::default()
    };
    match timed(api.delete(name, &dp)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(Error::Locked(format!(
            "the lock {name} changed while you were reading it (another run took or renewed it); nothing was cleared"
        ))
        .into()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(classify(e, &format!("delete the lock {name}"), conn)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe() {
        assert_eq!(lease_name("my_app"), "kmigrate-my-app");
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

    #[test]
    fn finished_jobs() {
        let job = |conditions: serde_json::Value| -> Job {
            serde_json::from_value(
                serde_json::json!({"metadata": {}, "status": {"conditions": conditions}}),
            )
            .unwrap()
        };
        assert!(!job_finished(&job(serde_json::json!([]))));
        assert!(job_finished(&job(
            serde_json::json!([{"type": "Complete", "status": "True"}])
        )));
        assert!(job_finished(&job(
            serde_json::json!([{"type": "Failed", "status": "True"}])
        )));
        assert!(!job_finished(&job(
            serde_json::json!([{"type": "Failed", "status": "False"}])
        )));
    }
}
