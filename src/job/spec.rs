//! The Job built from a Deployment's pod template: pure, no I/O.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, PodReadinessGate, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Entrypoint, MANAGED_BY, RUN_LABEL};
use crate::pod_select::DEFAULT_CONTAINER_ANNOTATION;

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
    /// Whether the command replaces the entrypoint the app runs under, or runs under it.
    pub entrypoint: Entrypoint,
    /// The command as the `kmigrate.io/argv` annotation records it (see `audit_argv`).
    pub argv_record: String,
    /// migrate, rollback, status.
    pub command: String,
    /// Who asked.
    pub user: String,
    /// `activeDeadlineSeconds`.
    pub deadline: Option<Duration>,
    /// Init containers of the template the Job leaves out (the schema gate, which would
    /// wait for the migrations the Job exists to apply); named in [`LEFT_OUT`].
    pub leave_out: Vec<String>,
}

/// The readiness gate of the Job's pod, which nothing ever sets: the pod is never Ready,
/// so no Service sends it traffic. kmigrate follows the pod by its container's state,
/// never by readiness.
pub const NEVER_READY: &str = "kmigrate.io/never-ready";

/// The Job's annotation naming the init containers of the template it left out.
pub const LEFT_OUT: &str = "kmigrate.io/left-out-init-containers";

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

/// The Deployment's spec and its pod template's spec.
fn parts(deploy: &Deployment) -> Result<(&DeploymentSpec, &PodSpec), String> {
    let deploy_name = deploy.metadata.name.as_deref().unwrap_or_default();
    let spec = deploy
        .spec
        .as_ref()
        .ok_or_else(|| format!("Deployment {deploy_name} has no spec"))?;
    let pod = spec
        .template
        .spec
        .as_ref()
        .ok_or_else(|| format!("Deployment {deploy_name} has no pod template"))?;
    Ok((spec, pod))
}

/// The app container of a Deployment's pod template: `container` (`-c`), else the
/// template's default-container annotation, else the first.
pub fn app_container<'a>(
    deploy: &'a Deployment,
    container: Option<&str>,
) -> Result<&'a Container, String> {
    let deploy_name = deploy.metadata.name.as_deref().unwrap_or_default();
    let (spec, pod) = parts(deploy)?;
    let template = &spec.template;
    let annotated = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .map(String::as_str);
    let want = container
        .or(annotated)
        .or(pod.containers.first().map(|c| c.name.as_str()))
        .unwrap_or_default();
    pod.containers
        .iter()
        .find(|c| c.name == want)
        .ok_or_else(|| {
            let names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
            format!(
                "Deployment {deploy_name} has no container {want:?}; it has: {}",
                names.join(", ")
            )
        })
}

/// The `command` and `args` of a container that runs `argv` under the entrypoint `app`
/// runs under ([`Entrypoint::Keep`]): `app`'s own `command` when it sets one, else none,
/// which keeps the image's ENTRYPOINT; `argv` as `args`, which replaces the image's CMD and
/// `app`'s `args` (Kubernetes' rules for `command` and `args`).
pub fn start(app: &Container, argv: &[String]) -> (Option<Vec<String>>, Option<Vec<String>>) {
    (app.command.clone(), Some(argv.to_vec()))
}

/// Why [`Entrypoint::Keep`] cannot keep the entrypoint of `app`: its own `command` runs the
/// release (`release`, by file name) itself, as in `command: [/app/bin/shop, start]`. The
/// release command would become its arguments, and `start` would start the app instead.
pub fn keep_refused(app: &Container, release: &str) -> Option<String> {
    let file = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
    let runs_release = app
        .command
        .iter()
        .flatten()
        .any(|c| file(c) == file(release));
    runs_release.then(|| {
        format!(
            "--entrypoint keep runs the release command under the entrypoint of the app container {}, \
             but its `command` runs the release {release} itself, which would get the release command as \
             arguments; use --entrypoint replace, or set the container's `command` to the wrapper alone \
             (e.g. [/entrypoint.sh]) and the release in its `args`",
            app.name
        )
    })
}

/// Under [`Entrypoint::Replace`], what to tell a user whose app container runs under a
/// `command` of its own that is not the release (`[/vault/vault-env]`, `[/entrypoint.sh]`):
/// `what` (the Job, the gate) does not run it. Only its program is named: its arguments may
/// carry anything. An image's ENTRYPOINT cannot be seen through the API; this can.
pub fn replaced_wrapper(app: &Container, release: &str, what: &str) -> Option<String> {
    let program = app.command.as_ref()?.first()?;
    if keep_refused(app, release).is_some() {
        return None;
    }
    Some(format!(
        "note: the app container {} runs under its own `command` {}, which {what} replaces with the \
         release command; if it exports the database settings or secrets, pass --entrypoint keep \
         (`entrypoint = \"keep\"`)",
        app.name,
        crate::text::shown_argv(std::slice::from_ref(program))
    ))
}

/// The Job for a Deployment's pod template: the app container with `image` and `argv`,
/// no probes, no ports, no other regular containers (they would keep the pod alive), none
/// of the init containers `leave_out` names, none of the selector's labels and never Ready
/// (no traffic); everything else (env, volumes, service
/// account, pull secrets, scheduling, security context, the other init containers and
/// native sidecars) as in the Deployment.
pub fn build(deploy: &Deployment, o: &JobOptions) -> Result<Job, String> {
    let deploy_name = deploy.metadata.name.clone().unwrap_or_default();
    let mut app = app_container(deploy, o.container.as_deref())?.clone();
    let (spec, pod) = parts(deploy)?;
    let mut template = spec.template.clone();
    let mut pod = pod.clone();
    app.image = Some(o.image.clone());
    let (program, args) = o.argv.split_first().ok_or("empty command")?;
    (app.command, app.args) = match o.entrypoint {
        Entrypoint::Replace => (Some(vec![program.clone()]), Some(args.to_vec())),
        Entrypoint::Keep => start(&app, &o.argv),
    };
    app.liveness_probe = None;
    app.readiness_probe = None;
    app.startup_probe = None;
    app.ports = None;
    app.lifecycle = None;
    pod.containers = vec![app];
    pod.restart_policy = Some("Never".to_owned());
    pod.init_containers = pod
        .init_containers
        .take()
        .map(|cs| -> Vec<Container> {
            cs.into_iter()
                .filter(|c| !o.leave_out.contains(&c.name))
                .collect()
        })
        .filter(|cs| !cs.is_empty());

    // The Job's pod must not receive traffic. Labels that policies may rely on stay, but
    // not those any part of the Deployment's selector names (and so, usually, its
    // Service's). A Service that selects on other labels still finds the pod, so it is
    // never Ready either: a readiness gate nothing sets keeps it out of every Service's
    // ready endpoints (docs/guide/job-mode.md says why a gate and not a probe).
    let selected: Vec<String> = spec
        .selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .chain(
            spec.selector
                .match_expressions
                .iter()
                .flatten()
                .map(|e| e.key.clone()),
        )
        .collect();
    pod.readiness_gates
        .get_or_insert_with(Vec::new)
        .push(PodReadinessGate {
            condition_type: NEVER_READY.to_owned(),
        });
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

    let mut annotations = BTreeMap::from([
        ("kmigrate.io/user".to_owned(), o.user.clone()),
        ("kmigrate.io/image".to_owned(), o.image.clone()),
        ("kmigrate.io/deployment".to_owned(), deploy_name),
        ("kmigrate.io/argv".to_owned(), o.argv_record.clone()),
    ]);
    if !o.leave_out.is_empty() {
        annotations.insert(LEFT_OUT.to_owned(), o.leave_out.join(","));
    }
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
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn deployment() -> Deployment {
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

    pub(crate) fn options() -> JobOptions {
        JobOptions {
            name: "kmigrate-shop-20260101000000".into(),
            image: "shop:2".into(),
            container: None,
            argv: vec!["/app/bin/shop".into(), "eval".into(), "code".into()],
            argv_record: "/app/bin/shop eval code".into(),
            entrypoint: Entrypoint::Replace,
            command: "migrate".into(),
            user: "alice".into(),
            deadline: Some(Duration::from_secs(600)),
            leave_out: Vec::new(),
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
        assert!(!ann.contains_key(LEFT_OUT), "nothing was left out");
    }

    /// The Job's pod serves no traffic: no label any part of the Deployment's selector
    /// names (its `matchExpressions` too), and never Ready, whatever else selects it.
    #[test]
    fn the_jobs_pod_is_selected_by_no_service_and_never_ready() {
        let mut d = deployment();
        let spec = d.spec.as_mut().unwrap();
        spec.selector.match_expressions = Some(vec![
            serde_json::from_value(json!({"key": "tier", "operator": "In", "values": ["web"]}))
                .unwrap(),
        ]);
        let meta = spec.template.metadata.as_mut().unwrap();
        meta.labels
            .as_mut()
            .unwrap()
            .insert("tier".into(), "web".into());
        let pod = spec.template.spec.as_mut().unwrap();
        pod.readiness_gates = Some(vec![
            serde_json::from_value(json!({"conditionType": "example.com/warm"})).unwrap(),
        ]);
        let job = build(&d, &options()).unwrap();
        let template = &job.spec.as_ref().unwrap().template;
        let labels = template.metadata.as_ref().unwrap().labels.as_ref().unwrap();
        assert!(
            !labels.contains_key("app") && !labels.contains_key("tier"),
            "{labels:?}"
        );
        assert_eq!(labels.get("db-access").map(String::as_str), Some("yes"));
        assert_eq!(
            labels.get(RUN_LABEL).map(String::as_str),
            Some("kmigrate-shop-20260101000000"),
            "kmigrate finds the Job's pod by its own labels"
        );
        let gates: Vec<&str> = template
            .spec
            .as_ref()
            .unwrap()
            .readiness_gates
            .iter()
            .flatten()
            .map(|g| g.condition_type.as_str())
            .collect();
        assert_eq!(gates, ["example.com/warm", "kmigrate.io/never-ready"]);
        let c = &template.spec.as_ref().unwrap().containers[0];
        assert!(
            c.readiness_probe.is_none(),
            "no probe: nothing runs in the container to decide readiness"
        );
    }

    #[test]
    fn the_init_containers_named_are_left_out_and_said_so() {
        let mut d = deployment();
        let inits = d.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
        inits.init_containers.as_mut().unwrap().extend([
            serde_json::from_value(json!({"name": "wait-db", "image": "busybox"})).unwrap(),
            serde_json::from_value(json!({"name": "schema-wait", "image": "shop:1"})).unwrap(),
        ]);
        let mut o = options();
        o.leave_out = vec!["schema-wait".into()];
        let job = build(&d, &o).unwrap();
        let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let kept: Vec<&str> = pod
            .init_containers
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(kept, ["proxy", "wait-db"]);
        assert_eq!(job.metadata.annotations.unwrap()[LEFT_OUT], "schema-wait");
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

    /// `keep`: only `args` is set, so the image's ENTRYPOINT (or the Deployment's own
    /// `command`, a wrapper) runs, with the release command as its arguments.
    #[test]
    fn keep_sets_only_args_and_keeps_the_deployments_own_command() {
        let mut o = options();
        o.entrypoint = Entrypoint::Keep;
        let job = build(&deployment(), &o).unwrap();
        let c = &job.spec.unwrap().template.spec.unwrap().containers[0];
        assert_eq!(c.command, None, "the image's ENTRYPOINT stays");
        assert_eq!(
            c.args.as_deref().unwrap(),
            ["/app/bin/shop", "eval", "code"]
        );

        let mut d = deployment();
        let web = &mut d
            .spec
            .as_mut()
            .unwrap()
            .template
            .spec
            .as_mut()
            .unwrap()
            .containers[1];
        web.command = Some(vec!["/vault/vault-env".into()]);
        web.args = Some(vec!["/app/bin/shop".into(), "start".into()]);
        let job = build(&d, &o).unwrap();
        let c = &job.spec.unwrap().template.spec.unwrap().containers[0];
        assert_eq!(c.command.as_deref().unwrap(), ["/vault/vault-env"]);
        assert_eq!(
            c.args.as_deref().unwrap(),
            ["/app/bin/shop", "eval", "code"],
            "the app's args (its CMD) are replaced"
        );
        let web = app_container(&d, None).unwrap();
        assert!(keep_refused(web, "/app/bin/shop").is_none());
        let note = replaced_wrapper(web, "/app/bin/shop", "the Job").unwrap();
        assert!(
            note.contains("`command` /vault/vault-env, which the Job replaces"),
            "{note}"
        );
        assert!(note.contains("--entrypoint keep"), "{note}");

        o.entrypoint = Entrypoint::Replace;
        let job = build(&d, &o).unwrap();
        let c = &job.spec.unwrap().template.spec.unwrap().containers[0];
        assert_eq!(c.command.as_deref().unwrap(), ["/app/bin/shop"]);
    }

    /// A `command` that runs the release itself has nothing to keep: `start` would get the
    /// release command as arguments and start the app.
    #[test]
    fn keep_is_refused_where_the_deployments_command_is_the_release() {
        let mut web = app_container(&deployment(), None).unwrap().clone();
        assert!(keep_refused(&web, "/app/bin/shop").is_none(), "no command");
        assert!(replaced_wrapper(&web, "/app/bin/shop", "the Job").is_none());
        web.command = Some(vec!["bin/shop".into(), "start".into()]);
        let why = keep_refused(&web, "/app/bin/shop").unwrap();
        assert!(
            why.contains("runs the release /app/bin/shop itself"),
            "{why}"
        );
        assert!(why.contains("use --entrypoint replace"), "{why}");
        assert!(replaced_wrapper(&web, "/app/bin/shop", "the Job").is_none());
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
}
