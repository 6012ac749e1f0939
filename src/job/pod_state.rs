//! What a Job's pod says about its run: could it start, was it scheduled, how did it end.

use k8s_openapi::api::core::v1::Pod;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
