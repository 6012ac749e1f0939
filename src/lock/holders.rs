//! Other holders of the lock: whether their lease may be taken, and what `kmigrate unlock`
//! shows about them.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, Preconditions};
use tokio::time::Instant;

use super::observe::{self, Observer, Verdict};
use super::{
    CAUSE_ANNOTATION, JOB_HOLDER_PREFIX, POD_ANNOTATION, POD_UID_ANNOTATION, SINCE_ANNOTATION,
    STATE_ANNOTATION, timed,
};
use crate::connection::{Connection, classify};
use crate::error::Error;

/// What another holder's lease means for us.
pub(super) enum Other {
    /// It may be taken; the note says why.
    Takeable(String),
    /// Someone holds it: the message says who and what to do.
    Blocked(String),
    /// Its timestamps look stale: watch it a while longer before deciding.
    Watching(String),
}

/// Decide about a lease someone else holds.
pub(super) async fn judge(
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
                "held by Job {job}, still active; follow it with `{} logs {job}`",
                crate::program_name::on_target()
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
    // Leases kept before the cause was recorded were kept for a lost connection.
    let cause = annotations
        .get(CAUSE_ANNOTATION)
        .map_or("lost its connection", String::as_str);
    let ended = Ended {
        holder: other,
        cause,
        since,
    };
    let Some(pod) = annotations.get(POD_ANNOTATION) else {
        return Ok(Other::Blocked(ended.unknown("an unknown pod", "")));
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
        Other::Blocked(ended.unknown(
            &format!("pod {pod}"),
            " The pod is still there, so its command may still run (`status` names a migration still holding the database's lock).",
        ))
    } else {
        Other::Takeable(format!(
            "{other} ended ({cause}) at {since}, but its pod {pod} is gone, and its command with it"
        ))
    })
}

/// A run that ended without a known outcome, as a kept lease records it.
struct Ended<'a> {
    holder: &'a str,
    cause: &'a str,
    since: &'a str,
}

impl Ended<'_> {
    /// Why the lease blocks, with what is known of the `place` and how to go on.
    fn unknown(&self, place: &str, known: &str) -> String {
        format!(
            "{} ended ({}) in {place} at {} and its outcome is unknown.{known} \
             Check `{me} status`, then clear the lock with `{me} unlock`",
            self.holder,
            self.cause,
            self.since,
            me = crate::program_name::on_target()
        )
    }
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

/// A lease as `kmigrate unlock` shows it.
pub struct Found {
    /// The holder.
    pub holder: String,
    /// What is known, as (label, value) lines.
    pub facts: Vec<(&'static str, String)>,
    /// Whether its run may still be going: renewed within its duration, or held by a Job
    /// that is still active (or cannot be read).
    pub live: bool,
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
    let mut live = false;
    let state = if annotations.get(STATE_ANNOTATION).map(String::as_str) == Some("unknown") {
        match kept_for_unknown(conn, namespace, &holder, &annotations).await? {
            Other::Takeable(note) | Other::Blocked(note) | Other::Watching(note) => note,
        }
    } else if let Some(job) = holder.strip_prefix(JOB_HOLDER_PREFIX) {
        let jobs: Api<Job> = Api::namespaced(conn.client.clone(), namespace);
        match jobs.get_opt(job).await {
            Ok(Some(j)) if job_finished(&j) => format!("Job {job} has finished"),
            Ok(Some(_)) => {
                live = true;
                format!(
                    "Job {job} is still active: `{} logs {job}`",
                    crate::program_name::on_target()
                )
            }
            Ok(None) => format!("Job {job} no longer exists"),
            Err(e) => {
                live = true;
                format!(
                    "Job {job}: cannot be read ({})",
                    crate::connection::chain(&e)
                )
            }
        }
    } else {
        let mut observer = Observer::default();
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        match observer.judge(&version, &spec, Instant::now(), Timestamp::now()) {
            Verdict::Held => {
                live = true;
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
        live,
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
