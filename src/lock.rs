//! The single-runner guard: a `coordination.k8s.io/v1` Lease per app, renewed while a
//! migrate or rollback runs and released at the end, also on failure and Ctrl-C.

use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};

use crate::connection::{Connection, classify};
use crate::error::Error;

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

/// A held lease; call [`Held::release`] when done.
pub struct Held {
    api: Api<Lease>,
    name: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
}

/// The Lease name for an app: `kmigrate-<app>`, with `_` made DNS-safe.
pub fn lease_name(app: &str) -> String {
    format!("kmigrate-{}", app.replace('_', "-"))
}

fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else {
        return true;
    };
    let ttl = i64::from(spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS));
    renewed.0.as_second().saturating_add(ttl) < now.as_second()
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
    let api: Api<Lease> = Api::namespaced(conn.client.clone(), namespace);
    let started = tokio::time::Instant::now();
    let mut waiting_said = false;
    loop {
        let now = Timestamp::now();
        let attempt = match api.get_opt(name).await {
            Ok(None) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.to_owned()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(ours(holder, now, None)),
                };
                api.create(&PostParams::default(), &lease).await.map(|_| ())
            }
            Ok(Some(mut lease)) => {
                let spec = lease.spec.clone().unwrap_or_default();
                let current = spec.holder_identity.clone().filter(|h| !h.is_empty());
                match current {
                    Some(other) if !expired(&spec, now) => {
                        let since = spec
                            .acquire_time
                            .as_ref()
                            .map(|t| t.0.to_string())
                            .unwrap_or_else(|| "?".into());
                        match wait {
                            Some(limit) if started.elapsed() < limit => {
                                if !waiting_said {
                                    warn(&format!(
                                        "waiting for the lock {name}: held by {other} since {since}"
                                    ));
                                    waiting_said = true;
                                }
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                continue;
                            }
                            _ => {
                                return Err(Error::Locked(format!(
                                    "another run holds the lock {name} in namespace {namespace}: {other}, since {since}"
                                ))
                                .into());
                            }
                        }
                    }
                    Some(other) => {
                        warn(&format!("taking over the expired lock {name} from {other}"))
                    }
                    None => {}
                }
                lease.spec = Some(ours(holder, now, Some(&spec)));
                api.replace(name, &PostParams::default(), &lease)
                    .await
                    .map(|_| ())
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
            Err(e) => return Err(classify(e, &format!("take the lock {name}"), conn)),
        }
    }
    let renewer = tokio::spawn(renew(api.clone(), name.to_owned(), holder.to_owned()));
    Ok(Some(Held {
        api,
        name: name.to_owned(),
        holder: holder.to_owned(),
        renewer,
    }))
}

async fn renew(api: Api<Lease>, name: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let Ok(Some(mut lease)) = api.get_opt(&name).await else {
            continue;
        };
        let Some(spec) = lease.spec.as_mut() else {
            continue;
        };
        if spec.holder_identity.as_deref() != Some(holder.as_str()) {
            tracing::warn!(lease = %name, "lost the lock to another holder");
            return;
        }
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        if let Err(e) = api.replace(&name, &PostParams::default(), &lease).await {
            tracing::warn!(lease = %name, error = %e, "could not renew the lock");
        }
    }
}

impl Held {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_safe() {
        assert_eq!(lease_name("my_app"), "kmigrate-my-app");
    }

    #[test]
    fn expiry_uses_renew_time_and_duration() {
        let t = |s: i64| Some(MicroTime(Timestamp::from_second(s).unwrap()));
        let spec = LeaseSpec {
            renew_time: t(1000),
            lease_duration_seconds: Some(30),
            ..LeaseSpec::default()
        };
        assert!(!expired(&spec, Timestamp::from_second(1029).unwrap()));
        assert!(expired(&spec, Timestamp::from_second(1031).unwrap()));
        assert!(expired(
            &LeaseSpec::default(),
            Timestamp::from_second(0).unwrap()
        ));
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
