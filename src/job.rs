//! Job mode: run the migrate command from a NEW image before the rollout, in a Job built
//! from the app's Deployment, and follow it.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use futures::AsyncReadExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{ListParams, LogParams, PostParams};

use crate::connection::{Connection, classify};
use crate::error::Error;
use crate::output::{Stream, Streamer};
use crate::pod_select::DEFAULT_CONTAINER_ANNOTATION;

/// Label on everything kmigrate creates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kmigrate");
/// Label naming the run (the Job's name).
pub const RUN_LABEL: &str = "kmigrate.io/run";

/// What the Job is for.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// The Job's name (also the run name).
    pub name: String,
    /// The image to run.
    pub image: String,
    /// The container of the template that becomes the Job's container.
    pub container: Option<String>,
    /// The migrate command.
    pub argv: Vec<String>,
    /// migrate, rollback, status.
    pub command: String,
    /// Who asked.
    pub user: String,
    /// `activeDeadlineSeconds`.
    pub deadline: Option<Duration>,
}

/// Seconds a finished Job is kept for `kmigrate runs` and `kmigrate logs`.
pub const TTL_AFTER_FINISHED: i32 = 7 * 24 * 3600;

/// A run name: `kmigrate-<app>-<UTC time>-<4 hex>`, at most 63 characters; the random
/// tail keeps two runs in the same second apart.
pub fn run_name(app: &str, now: k8s_openapi::jiff::Timestamp) -> String {
    use std::hash::{BuildHasher, Hasher};
    let stamp = now.strftime("%Y%m%d%H%M%S").to_string();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i128(now.as_nanosecond());
    let tail = format!("{:04x}", h.finish() & 0xffff);
    let room = 63 - "kmigrate---".len() - stamp.len() - tail.len();
    let app: String = app.replace('_', "-").chars().take(room).collect();
    format!("kmigrate-{}-{stamp}-{tail}", app.trim_end_matches('-'))
}

/// The Job for a Deployment's pod template: the app container with `image` and `argv`,
/// no probes, no ports, no other regular containers (they would keep the pod alive);
/// everything else (env, volumes, service account, pull secrets, scheduling, security
/// context, init containers and native sidecars) as in the Deployment.
pub fn build(deploy: &Deployment, o: &JobOptions) -> Result<Job, String> {
    let deploy_name = deploy.metadata.name.clone().unwrap_or_default();
    let spec = deploy
        .spec
        .as_ref()
        .ok_or_else(|| format!("Deployment {deploy_name} has no spec"))?;
    let mut template = spec.template.clone();
    let mut pod = template
        .spec
        .take()
        .ok_or_else(|| format!("Deployment {deploy_name} has no pod template"))?;
    let names: Vec<String> = pod.containers.iter().map(|c| c.name.clone()).collect();
    let annotated = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION));
    let want = o
        .container
        .as_ref()
        .or(annotated)
        .or(names.first())
        .cloned()
        .unwrap_or_default();
    let mut app = pod
        .containers
        .drain(..)
        .find(|c| c.name == want)
        .ok_or_else(|| {
            format!(
                "Deployment {deploy_name} has no container {want:?}; it has: {}",
                names.join(", ")
            )
        })?;
    app.image = Some(o.image.clone());
    let (program, args) = o.argv.split_first().ok_or("empty command")?;
    app.command = Some(vec![program.clone()]);
    app.args = Some(args.to_vec());
    app.liveness_probe = None;
    app.readiness_probe = None;
    app.startup_probe = None;
    app.ports = None;
    app.lifecycle = None;
    pod.containers = vec![app];
    pod.restart_policy = Some("Never".to_owned());

    // Keep labels that policies may rely on, but not the ones the Deployment (and so,
    // usually, its Service) selects on: the Job's pod must not receive traffic.
    let selected: Vec<String> = spec
        .selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect();
    let mut meta = template.metadata.take().unwrap_or_default();
    let mut labels: BTreeMap<String, String> = meta
        .labels
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !selected.contains(k))
        .collect();
    labels.extend(job_labels(o));
    meta.labels = Some(labels);
    template.metadata = Some(meta);
    template.spec = Some(pod);

    let annotations = BTreeMap::from([
        ("kmigrate.io/user".to_owned(), o.user.clone()),
        ("kmigrate.io/image".to_owned(), o.image.clone()),
        ("kmigrate.io/deployment".to_owned(), deploy_name),
        (
            "kmigrate.io/argv".to_owned(),
            serde_json::to_string(&o.argv).unwrap_or_default(),
        ),
    ]);
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(o.name.clone()),
            namespace: deploy.metadata.namespace.clone(),
            labels: Some(job_labels(o)),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: o
                .deadline
                .map(|d| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX)),
            ttl_seconds_after_finished: Some(TTL_AFTER_FINISHED),
            template,
            ..JobSpec::default()
        }),
        status: None,
    })
}

fn job_labels(o: &JobOptions) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
        (RUN_LABEL.to_owned(), o.name.clone()),
        ("kmigrate.io/command".to_owned(), o.command.clone()),
    ])
}

/// YAML for people (`--dry-run`): block style, strings in JSON quoting (valid YAML).
pub fn to_yaml(value: &serde_json::Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

fn emit(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        emit(v, indent, out);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        let mut inner = String::new();
                        emit(item, indent + 2, &mut inner);
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(item, indent + 2, out);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(_) => "{}".to_owned(),
        serde_json::Value::Array(_) => "[]".to_owned(),
        other => other.to_string(),
    }
}

/// Why the Job's pod cannot start, if Kubernetes says it cannot.
pub fn start_failure(pod: &Pod) -> Option<String> {
    const FATAL: [&str; 6] = [
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    ];
    let status = pod.status.as_ref()?;
    for cs in status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
    {
        if let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = w.reason.as_deref().unwrap_or_default();
            if FATAL.contains(&reason) {
                return Some(format!(
                    "{reason}: {}",
                    w.message.as_deref().unwrap_or("no message")
                ));
            }
        }
    }
    None
}

/// Whether the scheduler said it cannot place the pod (and why).
pub fn unschedulable(pod: &Pod) -> Option<String> {
    let cond = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled")?;
    (cond.status == "False" && cond.reason.as_deref() == Some("Unschedulable")).then(|| {
        format!(
            "Unschedulable: {}",
            cond.message.as_deref().unwrap_or("no message")
        )
    })
}

/// The exit code of the Job's container, once it terminated.
pub fn exit_code(pod: &Pod) -> Option<i32> {
    let status = pod.status.as_ref()?;
    let cs = status.container_statuses.as_ref()?.first()?;
    cs.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code)
}

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
            let rs_name = pod
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.kind == "ReplicaSet")
                .map(|o| o.name.clone())
                .ok_or_else(|| {
                    Error::NoPod(
                        "the chosen pod is not owned by a ReplicaSet; pass --deployment".into(),
                    )
                })?;
            let rss: Api<ReplicaSet> = Api::namespaced(conn.client.clone(), ns);
            let rs = rss
                .get(&rs_name)
                .await
                .map_err(|e| classify(e, &format!("get replicaset {rs_name}"), conn))?;
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.kind == "Deployment")
                .map(|o| o.name.clone())
                .ok_or_else(|| {
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
                Ok(n) => out.chunk(Stream::Out, &buf[..n]),
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
    out.finish();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "shop", "namespace": "apps"},
            "spec": {
                "selector": {"matchLabels": {"app": "shop"}},
                "template": {
                    "metadata": {"labels": {"app": "shop", "db-access": "yes"},
                                 "annotations": {"kubectl.kubernetes.io/default-container": "web"}},
                    "spec": {
                        "serviceAccountName": "shop",
                        "imagePullSecrets": [{"name": "registry"}],
                        "nodeSelector": {"pool": "apps"},
                        "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                        "securityContext": {"runAsNonRoot": true},
                        "volumes": [{"name": "secrets", "secret": {"secretName": "shop"}}],
                        "initContainers": [{"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"}],
                        "containers": [
                            {"name": "metrics", "image": "exporter:1"},
                            {"name": "web", "image": "shop:1", "env": [{"name": "DATABASE_URL", "value": "x"}],
                             "envFrom": [{"secretRef": {"name": "shop"}}],
                             "ports": [{"containerPort": 4000}],
                             "readinessProbe": {"httpGet": {"path": "/", "port": 4000}},
                             "livenessProbe": {"httpGet": {"path": "/", "port": 4000}}}
                        ]
                    }
                }
            }
        }))
        .unwrap()
    }

    fn options() -> JobOptions {
        JobOptions {
            name: "kmigrate-shop-20260101000000".into(),
            image: "shop:2".into(),
            container: None,
            argv: vec!["/app/bin/shop".into(), "eval".into(), "code".into()],
            command: "migrate".into(),
            user: "alice".into(),
            deadline: Some(Duration::from_secs(600)),
        }
    }

    #[test]
    fn job_copies_the_template_and_replaces_what_matters() {
        let job = build(&deployment(), &options()).unwrap();
        let spec = job.spec.as_ref().unwrap();
        assert_eq!(
            (spec.backoff_limit, spec.active_deadline_seconds),
            (Some(0), Some(600))
        );
        assert_eq!(spec.ttl_seconds_after_finished, Some(TTL_AFTER_FINISHED));
        let pod = spec.template.spec.as_ref().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(
            pod.containers.len(),
            1,
            "regular sidecars would keep the pod alive"
        );
        let c = &pod.containers[0];
        assert_eq!(
            (c.name.as_str(), c.image.as_deref()),
            ("web", Some("shop:2"))
        );
        assert_eq!(c.command.as_ref().unwrap(), &["/app/bin/shop"]);
        assert_eq!(c.args.as_ref().unwrap(), &["eval", "code"]);
        assert!(c.readiness_probe.is_none() && c.liveness_probe.is_none() && c.ports.is_none());
        assert!(c.env.is_some() && c.env_from.is_some());
        assert_eq!(pod.service_account_name.as_deref(), Some("shop"));
        assert!(
            pod.image_pull_secrets.is_some()
                && pod.tolerations.is_some()
                && pod.node_selector.is_some()
        );
        assert!(pod.volumes.is_some() && pod.security_context.is_some());
        assert_eq!(pod.init_containers.as_ref().unwrap()[0].name, "proxy");
        let labels = spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert!(
            !labels.contains_key("app"),
            "the Service must not select the Job's pod"
        );
        assert_eq!(labels.get("db-access").map(String::as_str), Some("yes"));
        assert_eq!(
            labels.get(RUN_LABEL).map(String::as_str),
            Some("kmigrate-shop-20260101000000")
        );
        let ann = job.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann["kmigrate.io/user"], "alice");
        assert_eq!(ann["kmigrate.io/image"], "shop:2");
    }

    #[test]
    fn container_by_flag_and_missing_container() {
        let mut o = options();
        o.container = Some("metrics".into());
        let job = build(&deployment(), &o).unwrap();
        assert_eq!(
            job.spec.unwrap().template.spec.unwrap().containers[0].name,
            "metrics"
        );
        o.container = Some("nope".into());
        assert!(
            build(&deployment(), &o)
                .unwrap_err()
                .contains("no container \"nope\"")
        );
    }

    #[test]
    fn run_names_fit_in_a_label() {
        let t = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let name = run_name("my_app", t);
        assert!(
            name.starts_with("kmigrate-my-app-20270115080000-"),
            "{name}"
        );
        assert_eq!(name.len(), "kmigrate-my-app-20270115080000-".len() + 4);
        assert!(run_name(&"a".repeat(100), t).len() <= 63);
    }

    #[test]
    fn yaml_is_block_style_with_json_scalars() {
        let job = build(&deployment(), &options()).unwrap();
        let yaml = to_yaml(&serde_json::to_value(&job).unwrap());
        assert!(
            yaml.starts_with("apiVersion: \"batch/v1\"\nkind: \"Job\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("\n  backoffLimit: 0\n"), "{yaml}");
        assert!(
            yaml.contains("\n      - args:\n        - \"eval\"\n"),
            "{yaml}"
        );
        assert!(yaml.contains("\n        name: \"web\"\n"), "{yaml}");
    }

    #[test]
    fn start_failures_and_exit_codes() {
        let pod = |status: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"metadata": {}, "status": status})).unwrap()
        };
        let pulling = pod(
            json!({"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"shop:9\""}}}]}),
        );
        assert!(
            start_failure(&pulling)
                .unwrap()
                .starts_with("ImagePullBackOff: Back-off")
        );
        let creating = pod(
            json!({"phase": "Pending", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
        );
        assert!(start_failure(&creating).is_none());
        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes"}]}),
        );
        assert_eq!(unschedulable(&unsched).unwrap(), "Unschedulable: 0/1 nodes");
        let done = pod(
            json!({"phase": "Failed", "containerStatuses": [{"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 3}}}]}),
        );
        assert_eq!(exit_code(&done), Some(3));
    }
}
