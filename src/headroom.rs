//! Whether `eval` has room: it starts a second Erlang VM inside the app's container, and
//! when the container goes over its memory limit the kernel may kill the live app and the
//! half-done migration with it (cgroup v2 kills the whole container's group). Warns when the
//! numbers are readable: the container's limit from the pod, its use from the metrics API.

use k8s_openapi::api::core::v1::Pod;

use crate::connection::Connection;

/// Below this much free memory under the limit, `eval` is risky: a release's VM with the
/// app's code loaded and a repo pool typically takes 100–200 MiB.
pub const WARN_BELOW: u64 = 256 * 1024 * 1024;

/// A Kubernetes quantity as bytes: `512Mi`, `1Gi`, `500M`, `1G`, `268435456`.
pub fn bytes(quantity: &str) -> Option<u64> {
    let q = quantity.trim();
    let split = q
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    let b = n * factor;
    (b.is_finite() && b >= 0.0 && b < u64::MAX as f64).then_some(b as u64)
}

/// The container's memory limit in bytes, if it has one.
pub fn limit(pod: &Pod, container: &str) -> Option<u64> {
    let c = pod
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.name == container)?;
    let q = c.resources.as_ref()?.limits.as_ref()?.get("memory")?;
    bytes(&q.0)
}

/// A warning when the container has less than [`WARN_BELOW`] free under its limit.
pub fn warning(limit: u64, used: u64, pod: &str, container: &str) -> Option<String> {
    let free = limit.saturating_sub(used);
    (free < WARN_BELOW).then(|| {
        let mib = |b: u64| b / (1024 * 1024);
        format!(
            "warning: container {container} of pod {pod} uses {} MiB of its {} MiB memory \
            limit; `eval` starts a second VM next to the app, and going over the limit can kill \
            the app and the migration together. Job mode (--image) runs the migration in a pod \
            of its own.",
            mib(used),
            mib(limit)
        )
    })
}

/// The container's memory use from the metrics API (`metrics.k8s.io`), when it answers.
pub async fn used(conn: &Connection, namespace: &str, pod: &str, container: &str) -> Option<u64> {
    let path = format!("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{pod}");
    let request = http::Request::get(path).body(Vec::new()).ok()?;
    let metrics: serde_json::Value = match conn.client.request(request).await {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %crate::connection::chain(&e), "no pod metrics; memory headroom not checked");
            return None;
        }
    };
    metrics["containers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == container)
        .and_then(|c| bytes(c["usage"]["memory"].as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(bytes("512Mi"), Some(512 * 1024 * 1024));
        assert_eq!(bytes("1Gi"), Some(1024 * 1024 * 1024));
        assert_eq!(bytes("500M"), Some(500_000_000));
        assert_eq!(bytes("268435456"), Some(268_435_456));
        assert_eq!(bytes("1.5Gi"), Some(1_610_612_736));
        assert_eq!(bytes("12Xi"), None);
        assert_eq!(bytes(""), None);
    }

    #[test]
    fn warns_only_when_little_is_left() {
        let mi = 1024 * 1024;
        assert!(
            warning(512 * mi, 400 * mi, "web-1", "app")
                .is_some_and(|w| w.contains("400 MiB of its 512 MiB"))
        );
        assert!(warning(2048 * mi, 400 * mi, "web-1", "app").is_none());
        assert!(
            warning(100 * mi, 200 * mi, "web-1", "app").is_some(),
            "already over"
        );
    }

    #[test]
    fn limit_of_the_chosen_container() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {},
            "spec": {"containers": [
                {"name": "proxy", "resources": {"limits": {"memory": "64Mi"}}},
                {"name": "app", "resources": {"limits": {"memory": "1Gi"}}}
            ]}
        }))
        .unwrap();
        assert_eq!(limit(&pod, "app"), Some(1024 * 1024 * 1024));
        assert_eq!(limit(&pod, "nope"), None);
    }
}
