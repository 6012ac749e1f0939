//! What a Job and its pod say about a run: can the pod start, did the app container run,
//! how did it end. Pure: the API calls are in `api`.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Waiting reasons Kubernetes never retries: the pod will not start as it is.
const NEVER: [&str; 2] = ["InvalidImageName", "ErrImageNeverPull"];

/// Waiting reasons Kubernetes keeps retrying: the image may be pushed, the Secret created.
const RETRIED: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "RegistryUnavailable",
    "ImageInspectError",
    "SignatureValidationFailed",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// Why a pod has not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// Kubernetes' reason and message.
    pub why: String,
    /// Kubernetes will not retry: the pod never starts as it is.
    pub never: bool,
}

/// What a pod says about the app container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodState {
    /// The app container has not run yet, perhaps for a reason Kubernetes reports.
    Pending(Option<Blocked>),
    /// The app container runs.
    Running,
    /// The app container ended with this exit code.
    Exited(i32),
    /// The pod ended before the app container ran (a failed init container, an eviction,
    /// a kubelet admission rejection): what the pod says.
    EndedBeforeStart(String),
    /// The pod ended after the app container started, without an exit code for it.
    EndedUnknown(String),
}

/// The state of the app container `app` in `pod`, looked up by name: the kubelet sorts
/// the statuses by name, so an injected sidecar may come first.
pub fn pod_state(pod: &Pod, app: &str) -> PodState {
    let Some(status) = pod.status.as_ref() else {
        return PodState::Pending(None);
    };
    let cs = status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == app);
    let state = cs.and_then(|c| c.state.as_ref());
    if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        return PodState::Exited(t.exit_code);
    }
    if matches!(status.phase.as_deref(), Some("Failed" | "Succeeded")) {
        let what = ended(pod, app);
        return if cs.is_some_and(ran) {
            PodState::EndedUnknown(what)
        } else {
            PodState::EndedBeforeStart(what)
        };
    }
    if state.is_some_and(|s| s.running.is_some()) {
        return PodState::Running;
    }
    PodState::Pending(blocked(pod))
}

/// Whether the container ever ran (it may have run before its last state was lost).
fn ran(cs: &ContainerStatus) -> bool {
    let running = |s: Option<&k8s_openapi::api::core::v1::ContainerState>| {
        s.is_some_and(|s| s.running.is_some() || s.terminated.is_some())
    };
    cs.started == Some(true) || running(cs.state.as_ref()) || running(cs.last_state.as_ref())
}

/// Why the pod cannot start yet: a waiting reason of any of its containers, else the
/// scheduler's verdict.
fn blocked(pod: &Pod) -> Option<Blocked> {
    let status = pod.status.as_ref()?;
    let waiting = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter_map(|cs| {
            let w = cs.state.as_ref()?.waiting.as_ref()?;
            let reason = w.reason.as_deref().unwrap_or_default();
            let never = NEVER.contains(&reason);
            (never || RETRIED.contains(&reason)).then(|| Blocked {
                why: format!("{reason}: {}", w.message.as_deref().unwrap_or("no message")),
                never,
            })
        });
    let mut first = None;
    for b in waiting {
        if b.never {
            return Some(b);
        }
        first.get_or_insert(b);
    }
    first.or_else(|| unschedulable(pod).map(|why| Blocked { why, never: false }))
}

/// Whether the scheduler said it cannot place the pod (and why).
fn unschedulable(pod: &Pod) -> Option<String> {
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

/// What an ended pod says: its phase, reason and message, and each container's state.
fn ended(pod: &Pod, app: &str) -> String {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let Some(status) = pod.status.as_ref() else {
        return format!("pod {name} ended");
    };
    let mut out = format!("pod {name} {}", status.phase.as_deref().unwrap_or("ended"));
    match (status.reason.as_deref(), status.message.as_deref()) {
        (Some(r), Some(m)) => out.push_str(&format!(" ({r}: {m})")),
        (Some(r), None) => out.push_str(&format!(" ({r})")),
        (None, Some(m)) => out.push_str(&format!(" ({m})")),
        (None, None) => {}
    }
    let mut parts = Vec::new();
    for cs in status.init_container_statuses.iter().flatten() {
        parts.push(format!("init container {} {}", cs.name, describe(cs)));
    }
    match status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == app)
    {
        Some(cs) => parts.push(format!("container {app} {}", describe(cs))),
        None => parts.push(format!("container {app} never created")),
    }
    out.push_str(": ");
    out.push_str(&parts.join("; "));
    out
}

/// A container's state in a few words.
fn describe(cs: &ContainerStatus) -> String {
    let Some(state) = cs.state.as_ref() else {
        return "has no state".to_owned();
    };
    if let Some(t) = &state.terminated {
        let mut s = format!("exited with code {}", t.exit_code);
        if let Some(r) = &t.reason {
            s.push_str(&format!(" ({r})"));
        }
        if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
            s.push_str(&format!(": {m}"));
        }
        return s;
    }
    if state.running.is_some() {
        return "running".to_owned();
    }
    match state.waiting.as_ref().and_then(|w| w.reason.as_deref()) {
        Some(r) => format!("waiting ({r})"),
        None => "waiting".to_owned(),
    }
}

/// How a Job ended, from its conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// Complete: its pod succeeded.
    Complete,
    /// Failed (or about to: `FailureTarget`), with the reason and message.
    Failed(String),
}

/// Whether the Job has ended, and how.
pub fn job_end(job: &Job) -> Option<JobEnd> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    let holds = |t: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == t && c.status == "True")
    };
    if holds("Complete").is_some() {
        return Some(JobEnd::Complete);
    }
    let failed = holds("Failed").or_else(|| holds("FailureTarget"))?;
    Some(JobEnd::Failed(format!(
        "{}: {}",
        failed.reason.as_deref().unwrap_or("Failed"),
        failed.message.as_deref().unwrap_or("no message")
    )))
}

/// The Job's app container: the single regular container kmigrate puts in it.
pub fn app_container(job: &Job) -> Option<String> {
    let pod = job.spec.as_ref()?.template.spec.as_ref()?;
    pod.containers.first().map(|c| c.name.clone())
}

/// What to do next while waiting for a run's pod to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Keep waiting; the reason the pod is blocked, if Kubernetes gives one.
    Wait(Option<Blocked>),
    /// The app container runs or ran: follow its log.
    Follow,
    /// The pod did not start, and Kubernetes may still start it later: the Job must go.
    GiveUp(String),
    /// The Job or its pod ended before the app container ran: nothing ran, nothing will.
    NeverRan(String),
    /// The Job ended and nothing says how its app container did.
    Unknown(String),
    /// The Job completed, so its container exited 0, but its pod is gone.
    Completed,
}

/// Decide from the Job, its pod (if any) and how long kmigrate has waited. A pod that
/// Kubernetes keeps retrying is given `grace`; one it never retries is given up at once.
pub fn next_step(
    job: &Job,
    pod: Option<&Pod>,
    app: &str,
    waited: Duration,
    grace: Duration,
) -> Step {
    let state = pod.map(|p| pod_state(p, app));
    match (state, job_end(job)) {
        (Some(PodState::Running | PodState::Exited(_)), _) => Step::Follow,
        (Some(PodState::EndedBeforeStart(why)), _) => Step::NeverRan(why),
        (Some(PodState::EndedUnknown(why)), _) => Step::Unknown(why),
        (_, Some(JobEnd::Complete)) => Step::Completed,
        (Some(PodState::Pending(_)), Some(JobEnd::Failed(why))) => Step::NeverRan(format!(
            "the Job failed before its container {app} started: {why}"
        )),
        (None, Some(JobEnd::Failed(why))) => Step::Unknown(format!(
            "the Job failed ({why}) and its pod is gone, so the exit code is unknown"
        )),
        (Some(PodState::Pending(Some(b))), None) if b.never || waited >= grace => {
            Step::GiveUp(b.why)
        }
        (Some(PodState::Pending(b)), None) => Step::Wait(b),
        (None, None) if waited >= grace => Step::GiveUp(format!(
            "no pod was created within {} (`kubectl describe job` says why)",
            human(grace)
        )),
        (None, None) => Step::Wait(None),
    }
}

/// A duration as people write it: `2m`, `90s`, `1.5s`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(status: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "run-abc"}, "status": status})).unwrap()
    }

    fn cs(name: &str, state: Value) -> Value {
        json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0, "state": state})
    }

    fn job(conditions: Value) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "run"},
            "spec": {"template": {"spec": {"containers": [{"name": "app"}]}}},
            "status": {"conditions": conditions}
        }))
        .unwrap()
    }

    const GRACE: Duration = Duration::from_secs(120);

    #[test]
    fn the_exit_code_is_the_app_containers_even_when_a_sidecar_sorts_first() {
        let p = pod(json!({"phase": "Running", "containerStatuses": [
            cs("aaa-sidecar", json!({"running": {}})),
            cs("app", json!({"terminated": {"exitCode": 3}})),
        ]}));
        assert_eq!(pod_state(&p, "app"), PodState::Exited(3));
        let running = pod(json!({"phase": "Running", "containerStatuses": [
            cs("aaa-sidecar", json!({"terminated": {"exitCode": 0}})),
            cs("app", json!({"running": {}})),
        ]}));
        assert_eq!(pod_state(&running, "app"), PodState::Running);
        assert_eq!(
            app_container(&job(json!([]))).as_deref(),
            Some("app"),
            "the Job's single regular container"
        );
    }

    #[test]
    fn a_failed_init_container_ends_the_wait_and_is_named() {
        let p = pod(json!({"phase": "Failed",
            "initContainerStatuses": [cs("wait-db", json!({"terminated": {"exitCode": 1, "reason": "Error"}}))],
            "containerStatuses": [cs("app", json!({"waiting": {"reason": "PodInitializing"}}))]}));
        let PodState::EndedBeforeStart(why) = pod_state(&p, "app") else {
            panic!("{:?}", pod_state(&p, "app"))
        };
        assert!(
            why.contains("init container wait-db exited with code 1 (Error)"),
            "{why}"
        );
        assert!(
            why.contains("container app waiting (PodInitializing)"),
            "{why}"
        );
        let step = next_step(&job(json!([])), Some(&p), "app", Duration::ZERO, GRACE);
        assert!(matches!(step, Step::NeverRan(w) if w.contains("wait-db")));
    }

    #[test]
    fn an_admission_rejected_pod_ends_with_its_reason() {
        let p = pod(json!({"phase": "Failed", "reason": "OutOfcpu",
            "message": "Pod was rejected: Node didn't have enough resource: cpu"}));
        let PodState::EndedBeforeStart(why) = pod_state(&p, "app") else {
            panic!("{:?}", pod_state(&p, "app"))
        };
        assert!(
            why.contains(
                "Failed (OutOfcpu: Pod was rejected: Node didn't have enough resource: cpu)"
            ),
            "{why}"
        );
        assert!(why.contains("container app never created"), "{why}");
    }

    #[test]
    fn a_pod_that_ended_after_the_app_started_has_an_unknown_outcome() {
        let p = pod(json!({"phase": "Failed", "reason": "Evicted",
            "containerStatuses": [{"name": "app", "image": "x", "imageID": "", "ready": false,
                "restartCount": 0, "started": true, "state": {"running": {}}}]}));
        assert!(matches!(pod_state(&p, "app"), PodState::EndedUnknown(w) if w.contains("Evicted")));
    }

    #[test]
    fn image_pull_errors_are_given_the_grace_and_final_ones_are_not() {
        let pulling = pod(
            json!({"phase": "Pending", "containerStatuses": [cs("app", json!({"waiting": {"reason": "ErrImagePull", "message": "pull access denied"}}))]}),
        );
        let j = job(json!([]));
        let within = next_step(&j, Some(&pulling), "app", Duration::from_secs(119), GRACE);
        assert_eq!(
            within,
            Step::Wait(Some(Blocked {
                why: "ErrImagePull: pull access denied".into(),
                never: false
            }))
        );
        assert_eq!(
            next_step(&j, Some(&pulling), "app", GRACE, GRACE),
            Step::GiveUp("ErrImagePull: pull access denied".into())
        );
        let invalid = pod(
            json!({"phase": "Pending", "containerStatuses": [cs("app", json!({"waiting": {"reason": "InvalidImageName", "message": "bad"}}))]}),
        );
        assert_eq!(
            next_step(&j, Some(&invalid), "app", Duration::ZERO, GRACE),
            Step::GiveUp("InvalidImageName: bad".into())
        );
        let creating = pod(
            json!({"phase": "Pending", "containerStatuses": [cs("app", json!({"waiting": {"reason": "ContainerCreating"}}))]}),
        );
        assert_eq!(
            next_step(&j, Some(&creating), "app", GRACE * 10, GRACE),
            Step::Wait(None),
            "a pod that is being created is not blocked"
        );
    }

    #[test]
    fn config_errors_and_unschedulable_pods_are_given_the_grace() {
        let j = job(json!([]));
        let config = pod(
            json!({"phase": "Pending", "initContainerStatuses": [cs("wait-db", json!({"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"db\" not found"}}))]}),
        );
        assert!(matches!(
            next_step(&j, Some(&config), "app", Duration::from_secs(5), GRACE),
            Step::Wait(Some(Blocked { never: false, .. }))
        ));
        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/1 nodes"}]}),
        );
        assert_eq!(
            next_step(&j, Some(&unsched), "app", GRACE, GRACE),
            Step::GiveUp("Unschedulable: 0/1 nodes".into())
        );
    }

    #[test]
    fn the_jobs_conditions_end_the_wait() {
        let failed = job(
            json!([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]),
        );
        assert!(matches!(
            next_step(&failed, None, "app", Duration::ZERO, GRACE),
            Step::Unknown(w) if w.contains("DeadlineExceeded") && w.contains("exit code is unknown")
        ));
        let pending = pod(json!({"phase": "Pending"}));
        assert!(matches!(
            next_step(&failed, Some(&pending), "app", Duration::ZERO, GRACE),
            Step::NeverRan(w) if w.contains("DeadlineExceeded")
        ));
        let complete = job(json!([{"type": "Complete", "status": "True"}]));
        assert_eq!(
            next_step(&complete, None, "app", Duration::ZERO, GRACE),
            Step::Completed
        );
        let no_pod = job(json!([]));
        assert_eq!(
            next_step(&no_pod, None, "app", Duration::from_secs(1), GRACE),
            Step::Wait(None)
        );
        assert!(matches!(
            next_step(&no_pod, None, "app", GRACE, GRACE),
            Step::GiveUp(w) if w.contains("no pod was created within 2m")
        ));
    }

    #[test]
    fn durations_read_as_written() {
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }
}
