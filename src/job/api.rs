//! Job mode's API calls: find the Deployment, create the Job, follow its pod, list runs.

use std::time::Duration;

use anyhow::Result;
use futures::AsyncReadExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, LogParams, PostParams};

use super::pod_state::{exit_code, start_failure, unschedulable};
use super::{MANAGED_BY, RUN_LABEL};
use crate::connection::{Connection, classify};
use crate::error::Error;
use crate::output::{Stream, Streamer};
use crate::pod_select::owner;

/// Find the app's Deployment: by name, or as the owner of the chosen pod's ReplicaSet.
pub async fn find_deployment(
    conn: &Connection,
    ns: &str,
    name: Option<&str>,
    pod: Option<&Pod>,
) -> Result<Deployment> {
    let deployments: Api<Deployment> = Api::namespaced(conn.client.clone(), ns);
    let name = match (name, pod) {
        (Some(n), _) => n.to_owned(),
        (None, Some(pod)) => {
            let rs_name = owner(&pod.metadata, "ReplicaSet").ok_or_else(|| {
                Error::NoPod(
                    "the chosen pod is not owned by a ReplicaSet; pass --deployment".into(),
                )
            })?;
            let rss: Api<ReplicaSet> = Api::namespaced(conn.client.clone(), ns);
            let rs = rss
                .get(&rs_name)
                .await
                .map_err(|e| classify(e, &format!("get replicaset {rs_name}"), conn))?;
            owner(&rs.metadata, "Deployment").ok_or_else(|| {
                Error::NoPod(format!(
                    "ReplicaSet {rs_name} has no Deployment; pass --deployment"
                ))
            })?
        }
        (None, None) => {
            return Err(Error::NoPod(
                "no pod to find the Deployment from; pass --deployment".into(),
            )
            .into());
        }
    };
    match deployments.get_opt(&name).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => {
            Err(Error::NoPod(format!("Deployment {name:?} not found in namespace {ns:?}")).into())
        }
        Err(e) => Err(classify(e, &format!("get deployment {name}"), conn)),
    }
}

/// Create the Job.
pub async fn create(conn: &Connection, ns: &str, job: &Job) -> Result<()> {
    let api: Api<Job> = Api::namespaced(conn.exec_client.clone(), ns);
    api.create(&PostParams::default(), job)
        .await
        .map(|_| ())
        .map_err(|e| classify(e, "create the migration Job", conn))
}

/// How long an unschedulable pod is given before kmigrate reports it.
pub const UNSCHEDULABLE_GRACE: Duration = Duration::from_secs(60);

/// Wait for the run's pod to start (or finish), follow its log, and return its exit code.
/// An unschedulable pod is reported after `grace` (the scheduler may yet find room).
pub async fn follow(
    conn: &Connection,
    ns: &str,
    run: &str,
    out: &mut Streamer,
    grace: Duration,
) -> Result<i32> {
    let jobs: Api<Job> = Api::namespaced(conn.client.clone(), ns);
    if jobs
        .get_opt(run)
        .await
        .map_err(|e| classify(e, &format!("get job {run}"), conn))?
        .is_none()
    {
        return Err(Error::NoPod(format!(
            "no run {run:?} in namespace {ns:?}; `kmigrate runs` lists them"
        ))
        .into());
    }
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
    let lp = ListParams::default().labels(&format!("{RUN_LABEL}={run}"));
    let started = tokio::time::Instant::now();
    let pod = loop {
        let list = pods
            .list(&lp)
            .await
            .map_err(|e| classify(e, "list the Job's pods", conn))?;
        if let Some(pod) = list.items.into_iter().next() {
            if let Some(why) = start_failure(&pod) {
                return Err(
                    Error::JobNotStarted(format!("the Job's pod cannot start: {why}")).into(),
                );
            }
            if let Some(why) = unschedulable(&pod).filter(|_| started.elapsed() >= grace) {
                return Err(Error::JobNotStarted(format!(
                    "the Job's pod was not scheduled within {}s: {why}",
                    grace.as_secs()
                ))
                .into());
            }
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default();
            if matches!(phase.as_str(), "Running" | "Succeeded" | "Failed") {
                break pod;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut code = exit_code(&pod);
    // Follow while the container runs. Once it has ended, give the log a moment to
    // finish: a log stream can outlive its container (a node agent that never closes it).
    let params = LogParams {
        follow: code.is_none(),
        ..LogParams::default()
    };
    let mut stream = match pods.log_stream(&name, &params).await {
        Ok(s) => Some(Box::pin(s)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot follow the Job's log");
            None
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut ended: Option<tokio::time::Instant> = code.map(|_| tokio::time::Instant::now());
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            r = async {
                match stream.as_mut() {
                    Some(s) => s.read(&mut buf).await,
                    None => std::future::pending().await,
                }
            } => match r {
                Ok(0) | Err(_) => stream = None,
                Ok(n) => out.chunk(Stream::Out, &buf[..n]).await,
            },
            _ = tick.tick() => {
                if code.is_none() {
                    match pods.get_opt(&name).await.map_err(|e| classify(e, "read the Job's pod", conn))? {
                        Some(p) => code = exit_code(&p),
                        None => {
                            return Err(Error::Unknown(format!(
                                "the Job's pod {name} disappeared before it reported an exit code"
                            ))
                            .into());
                        }
                    }
                    if code.is_some() {
                        ended = Some(tokio::time::Instant::now());
                    }
                }
            },
        }
        let log_done =
            stream.is_none() || ended.is_some_and(|t| t.elapsed() > Duration::from_secs(2));
        if log_done && code.is_some() {
            break;
        }
    }
    out.finish().await;
    code.ok_or_else(|| Error::Unknown("the Job's pod reported no exit code".into()).into())
}

/// A row of `kmigrate runs`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct RunInfo {
    /// The Job's name.
    pub name: String,
    /// Creation time.
    pub started: Option<String>,
    /// Who ran it.
    pub user: Option<String>,
    /// migrate, rollback, status.
    pub command: Option<String>,
    /// The image.
    pub image: Option<String>,
    /// running, succeeded, failed.
    pub outcome: String,
    /// Seconds from start to completion.
    pub duration_s: Option<i64>,
}

/// Read a run's facts from its Job.
pub fn run_info(job: &Job) -> RunInfo {
    let ann = |k: &str| {
        job.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(k))
            .cloned()
    };
    let status = job.status.as_ref();
    let outcome = match status {
        Some(s) if s.succeeded.unwrap_or(0) > 0 => "succeeded",
        Some(s) if s.failed.unwrap_or(0) > 0 => "failed",
        _ => "running",
    };
    let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let end = status.and_then(|s| s.completion_time.as_ref()).map(|t| t.0);
    RunInfo {
        name: job.metadata.name.clone().unwrap_or_default(),
        started: job
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        user: ann("kmigrate.io/user"),
        command: job
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kmigrate.io/command"))
            .cloned(),
        image: ann("kmigrate.io/image"),
        outcome: outcome.to_owned(),
        duration_s: start.zip(end).map(|(s, e)| e.as_second() - s.as_second()),
    }
}

/// The kmigrate Jobs in a namespace, newest first.
pub async fn runs(conn: &Connection, ns: &str) -> Result<Vec<RunInfo>> {
    let api: Api<Job> = Api::namespaced(conn.client.clone(), ns);
    let lp = ListParams::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    let list = api
        .list(&lp)
        .await
        .map_err(|e| classify(e, "list kmigrate Jobs", conn))?;
    let mut rows: Vec<RunInfo> = list.items.iter().map(run_info).collect();
    rows.sort_by(|a, b| b.started.cmp(&a.started));
    Ok(rows)
}
