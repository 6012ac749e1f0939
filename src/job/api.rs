//! Job mode's API calls: find the Deployment, create, follow and delete the Job, list runs.

use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};

use super::log::{ATTEMPTS, Event, Log, LogStream};
use super::pod_state::{
    JobEnd, PodState, Step, app_container, human, job_end, next_step, pod_state,
};
use super::{MANAGED_BY, RUN_LABEL};
use crate::connection::{Connection, chain, classify, is_transient};
use crate::error::Error;
use crate::output::{Stream, Streamer};
use crate::pod_select::owner;
use crate::ui::Ui;

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

/// Why creating the Job failed, as far as whether it exists.
#[derive(Debug)]
pub enum CreateFailure {
    /// The API server answered that it did not create the Job (403, 422, ...), or the
    /// request never left: nothing ran.
    Rejected(anyhow::Error),
    /// The request was sent but the answer does not say the Job is absent (no answer, a
    /// 5xx, 408, 429, or 409 AlreadyExists): it may exist.
    Unsure(String),
}

/// Create the Job. Never retried: a retry cannot tell its own Job from another's.
pub async fn create(conn: &Connection, ns: &str, job: &Job) -> Result<(), CreateFailure> {
    let api: Api<Job> = Api::namespaced(conn.exec_client.clone(), ns);
    match api.create(&PostParams::default(), job).await {
        Ok(_) => Ok(()),
        Err(e) if create_rejected(&e) => Err(CreateFailure::Rejected(classify(
            e,
            "create the migration Job",
            conn,
        ))),
        Err(e) => Err(CreateFailure::Unsure(chain(&e))),
    }
}

/// Whether a failed create says for sure that no Job was created: a 4xx other than 408
/// (timeout), 409 (it exists) and 429 (throttled), or a connection that was never made.
fn create_rejected(err: &kube::Error) -> bool {
    if let kube::Error::Api(status) = err {
        return (400..500).contains(&status.code) && !matches!(status.code, 408 | 409 | 429);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// Whether the run's Job exists, asked a few times over a few seconds: after an
/// unanswered create the API server may still be writing it.
pub async fn exists(conn: &Connection, ns: &str, run: &str) -> Result<bool> {
    let jobs: Api<Job> = Api::namespaced(conn.client.clone(), ns);
    let mut last = None;
    for pause in [0, 1000, 2000] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        match jobs.get_opt(run).await {
            Ok(Some(_)) => return Ok(true),
            Ok(None) => last = None,
            Err(e) => last = Some(classify(e, &format!("get job {run}"), conn)),
        }
    }
    last.map_or(Ok(false), Err)
}

/// How long kmigrate waits for a deleted Job and its pods to go.
pub const DELETE_WITHIN: Duration = Duration::from_secs(30);

/// Delete the run's Job and wait, up to `within`, until nothing of it can start: the Job
/// is gone and each of its pods is gone or terminating, with the app container never
/// started. Errors say what is left.
pub async fn delete(
    conn: &Connection,
    ns: &str,
    run: &str,
    app: &str,
    within: Duration,
) -> Result<()> {
    let jobs: Api<Job> = Api::namespaced(conn.client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
    match jobs.delete(run, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) => return Err(classify(e, &format!("delete job {run}"), conn)),
    }
    let lp = ListParams::default().labels(&format!("{RUN_LABEL}={run}"));
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let job = jobs
            .get_opt(run)
            .await
            .map_err(|e| classify(e, &format!("get job {run}"), conn))?;
        let list = pods
            .list(&lp)
            .await
            .map_err(|e| classify(e, "list the Job's pods", conn))?;
        if let Some(p) = list.items.iter().find(|p| {
            matches!(
                pod_state(p, app),
                PodState::Running | PodState::Exited(_) | PodState::EndedUnknown(_)
            )
        }) {
            anyhow::bail!(
                "its pod {} started while the Job was being deleted",
                p.metadata.name.as_deref().unwrap_or("?")
            );
        }
        let alive: Vec<&str> = list
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        if job.is_none() && alive.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "after {} the Job {}",
                human(within),
                if job.is_some() {
                    "still exists".to_owned()
                } else {
                    format!("is gone but not its pod {}", alive.join(", "))
                }
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Reads of the Job's pod in a row that may get no answer while its log is followed.
const UNANSWERED: u32 = 10;

/// How following a run ended, short of an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// The app container exited with this code.
    Exited(i32),
    /// The app container exited with `code`, but its log could not be read (`why`): what it
    /// printed, and with it the snippet's own report, is missing.
    Unread {
        /// The container's exit code.
        code: i32,
        /// Why the log could not be read, as the API server said it.
        why: String,
    },
    /// The Job completed (so its container exited 0), but its pod and log are gone.
    Completed,
    /// The pod did not start and Kubernetes may still start it: the Job is still there.
    NotStarting(String),
}

/// Wait for the run's pod to start, follow the app container's log, and say how it
/// ended. A pod Kubernetes keeps retrying (image pull, config error, unschedulable) is
/// given `grace`; then, or at once for a reason it never retries, this returns
/// [`Followed::NotStarting`]. A pod or Job that ended before the container ran is
/// [`Error::JobNotStarted`]; one that ended without saying how it did is
/// [`Error::Unknown`].
///
/// It polls (a GET of the Job and its pods every 0.5 s) rather than watching: the Role
/// grants no `watch` (kmigrate asks for the least it needs), a poll sees an absence (the
/// Job or pod deleted) the same way as a state, with no resync after a dropped watch, and
/// half a second is nothing beside a migration; kube-runtime's watcher would also add a
/// dependency for one loop.
pub async fn follow(
    conn: &Connection,
    ns: &str,
    run: &str,
    out: &mut Streamer,
    ui: &Ui,
    grace: Duration,
) -> Result<Followed> {
    // A container's log holds its stdout and stderr as one stream.
    out.reads_a_merged_log();
    let jobs: Api<Job> = Api::namespaced(conn.client.clone(), ns);
    let get_job = || async {
        jobs.get_opt(run)
            .await
            .map_err(|e| classify(e, &format!("get job {run}"), conn))
    };
    let Some(mut job) = get_job().await? else {
        return Err(Error::NoPod(format!(
            "no run {run:?} in namespace {ns:?}; `{} runs` lists them",
            crate::program_name::on_target()
        ))
        .into());
    };
    let app = app_container(&job)
        .ok_or_else(|| Error::NoPod(format!("the Job {run} has no container")))?;
    let pods: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
    let lp = ListParams::default().labels(&format!("{RUN_LABEL}={run}"));
    let started = tokio::time::Instant::now();
    let mut told: Option<String> = None;
    let pod = loop {
        let list = pods
            .list(&lp)
            .await
            .map_err(|e| classify(e, "list the Job's pods", conn))?;
        let pod = newest(list.items);
        match next_step(&job, pod.as_ref(), &app, started.elapsed(), grace) {
            Step::Follow => break pod,
            Step::Wait(Some(b)) if told.as_ref() != Some(&b.why) => {
                ui.note(&format!(
                    "The Job's pod is waiting: {}; kmigrate waits up to {} for it to start.",
                    b.why,
                    human(grace)
                ));
                told = Some(b.why);
            }
            Step::Wait(_) => {}
            Step::GiveUp(why) => return Ok(Followed::NotStarting(why)),
            Step::NeverRan(why) => {
                return Err(Error::JobNotStarted(format!(
                    "the Job's container {app} never ran: {why}"
                ))
                .into());
            }
            Step::Unknown(why) => return Err(Error::Unknown(why).into()),
            Step::Completed => return Ok(Followed::Completed),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        job = get_job().await?.ok_or_else(|| {
            Error::Unknown(format!(
                "the Job {run} was deleted while kmigrate waited for its pod to start"
            ))
        })?;
    };
    let Some(pod) = pod else {
        return Err(Error::Unknown(format!("the Job {run} has no pod to follow")).into());
    };
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut code = match pod_state(&pod, &app) {
        PodState::Exited(c) => Some(c),
        _ => None,
    };
    // Follow while the container runs. Once it has ended, give the log a moment to
    // finish: a log stream can outlive its container (a node agent that never closes it).
    let open = |follow: bool| {
        let params = LogParams {
            container: Some(app.clone()),
            follow,
            ..LogParams::default()
        };
        let (pods, name) = (&pods, &name);
        async move {
            match pods.log_stream(name, &params).await {
                Ok(s) => Ok(Box::pin(s) as LogStream),
                Err(kube::Error::Api(status)) => Err(status.message),
                Err(other) => Err(chain(&other)),
            }
        }
    };
    let mut log = Log::default();
    log.open(open(code.is_none()).await);
    let mut buf = vec![0u8; 64 * 1024];
    let mut ended: Option<tokio::time::Instant> = code.map(|_| tokio::time::Instant::now());
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut unanswered = 0;
    loop {
        tokio::select! {
            event = log.next(&mut buf) => match event {
                Event::Bytes(bytes) => out.chunk(Stream::Out, bytes).await,
                Event::Skipped => {}
                Event::Ended => log.ended(code.is_none()),
                Event::Broken(why) => log.broke(why),
            },
            _ = tick.tick() => {
                if code.is_none() {
                    let p = match pods.get_opt(&name).await {
                        Ok(p) => p,
                        // A read that got no answer is asked again at the next tick.
                        Err(e) if is_transient(&e) && unanswered < UNANSWERED => {
                            unanswered += 1;
                            continue;
                        }
                        Err(e) => return Err(classify(e, "read the Job's pod", conn)),
                    };
                    unanswered = 0;
                    let Some(p) = p else {
                        let job_says = match get_job().await {
                            Ok(Some(j)) => job_end(&j).map(|e| match e {
                                JobEnd::Failed(why) => format!(" (the Job failed: {why})"),
                                JobEnd::Complete => " (the Job completed)".to_owned(),
                            }),
                            _ => None,
                        };
                        return Err(Error::Unknown(format!(
                            "the Job's pod {name} disappeared before it reported an exit code{}",
                            job_says.unwrap_or_default()
                        ))
                        .into());
                    };
                    match pod_state(&p, &app) {
                        PodState::Exited(c) => {
                            code = Some(c);
                            ended = Some(tokio::time::Instant::now());
                        }
                        PodState::EndedBeforeStart(why) | PodState::EndedUnknown(why) => {
                            return Err(Error::Unknown(format!(
                                "the Job's pod ended without an exit code for container {app}: {why}"
                            ))
                            .into());
                        }
                        PodState::Running | PodState::Pending(_) => {}
                    }
                }
                if let Some((why, attempt)) = log.due() {
                    ui.note(&format!(
                        "The Job's log stream broke ({why}); reading it again from where it stopped (attempt {attempt} of {ATTEMPTS})."
                    ));
                    log.open(open(code.is_none()).await);
                }
            },
        }
        let log_done = log.done()
            || ended.is_some_and(|t| t.elapsed() > Duration::from_secs(2))
                && log.open_for(Duration::from_secs(2));
        if log_done && let Some(c) = code {
            out.finish().await;
            return Ok(match log.unread {
                Some(why) => Followed::Unread { code: c, why },
                None => Followed::Exited(c),
            });
        }
    }
}

/// The newest pod: the one a Job made last, if it made more than one.
fn newest(mut pods: Vec<Pod>) -> Option<Pod> {
    pods.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
    });
    pods.pop()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        let status: kube::core::Status =
            serde_json::from_value(serde_json::json!({"code": code})).unwrap();
        kube::Error::Api(Box::new(status))
    }

    /// A Job whose container ended but whose log the API server would not give: the exit
    /// code comes back with why the log is missing, never as an ordinary exit.
    #[tokio::test]
    async fn a_log_that_cannot_be_read_is_said_to_be_missing() {
        use crate::connection::testing::{list, mock_cluster, object, status};
        use serde_json::json;
        let (conn, mut handle) = mock_cluster();
        tokio::spawn(async move {
            while let Some((req, send)) = handle.next_request().await {
                let path = req.uri().path().to_owned();
                send.send_response(if path.ends_with("/jobs/run-1") {
                    object(&json!({"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {"name": "run-1", "namespace": "apps"},
                        "spec": {"template": {"spec": {"containers": [{"name": "app"}]}}}}))
                } else if path.ends_with("/pods") {
                    list(vec![json!({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "run-1-x", "namespace": "apps"},
                        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "app",
                            "ready": false, "restartCount": 0, "image": "i", "imageID": "",
                            "state": {"terminated": {"exitCode": 0}}}]}})])
                } else {
                    status(400, "BadRequest", "no logs found for container \"app\"")
                });
            }
        });
        let (ui, _) = Ui::memory(false, false);
        let mut out = ui.streamer(crate::output::Purpose::Log);
        let followed = follow(
            &conn,
            "apps",
            "run-1",
            &mut out,
            &ui,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        match followed {
            Followed::Unread { code: 0, why } => {
                assert_eq!(why, "no logs found for container \"app\"");
            }
            Followed::Exited(c) => panic!("an ordinary exit {c}, as if the log had been read"),
            _ => panic!("not followed to the end"),
        }
    }

    #[test]
    fn only_a_clear_no_means_the_job_was_not_created() {
        for code in [400, 401, 403, 404, 422] {
            assert!(create_rejected(&api_error(code)), "{code}");
        }
        for code in [408, 409, 429, 500, 503, 504] {
            assert!(!create_rejected(&api_error(code)), "{code}");
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(create_rejected(&kube::Error::Service(Box::new(refused))));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(!create_rejected(&kube::Error::Service(Box::new(reset))));
    }
}
