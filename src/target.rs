//! Resolving the pod and container a run acts on, through the API.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::ListParams;

use crate::connection::{Connection, chain, classify, is_transient};
use crate::error::Error;
use crate::pod_select::{
    Candidate, Choice, Controller, RsInfo, choose, choose_container, controller, needs_revisions,
    owner,
};
use crate::selector::Selector;

/// Which pods to consider and which container to run in: all that the choice needs of
/// the settings.
#[derive(Debug, Clone, Default)]
pub struct PodQuery {
    /// A pod named with `--pod` (found by name, not by the selector).
    pub pod: Option<String>,
    /// The label selector.
    pub selector: Option<Selector>,
    /// A container named with `-c`.
    pub container: Option<String>,
}

impl PodQuery {
    /// The selector as typed, for messages (empty without one).
    pub fn selector_text(&self) -> String {
        self.selector
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

/// The pod and container to run in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    /// The kubeconfig context.
    pub context: String,
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// The pod's UID: a pod recreated under the same name is another pod.
    pub uid: Option<String>,
    /// The container's memory limit in bytes, if it has one.
    pub memory_limit: Option<u64>,
    /// What controls the pod (its ReplicaSet, ...), if anything does.
    pub controller: Option<Controller>,
}

/// The pods a selector matched and the verdict on each.
pub struct Candidates {
    /// The kubeconfig context.
    pub context: String,
    /// Namespace searched.
    pub namespace: String,
    /// Pods as listed, by name.
    pub pods: BTreeMap<String, Pod>,
    /// Verdicts.
    pub choice: Choice,
    /// ReplicaSet revisions, when they were needed and readable.
    pub revisions: BTreeMap<String, RsInfo>,
    /// A note for people, e.g. that ReplicaSets could not be read.
    pub note: Option<String>,
}

/// Retry an idempotent read a few times when the server never answered.
async fn read<T, F, Fut>(what: &str, conn: &Connection, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(200);
    tracing::debug!("{what}");
    for attempt in 1.. {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 3 && is_transient(&e) => {
                tracing::info!(attempt, error = %chain(&e), "{what} failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(classify(e, what, conn)),
        }
    }
    unreachable!("the loop returns")
}

/// List the candidate pods in `namespace` with a server-side label selector.
pub async fn candidates_in(
    conn: &Connection,
    namespace: &str,
    query: &PodQuery,
) -> Result<Candidates> {
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), namespace);
    let pods: Vec<Pod> = match (&query.pod, &query.selector) {
        (Some(name), _) => {
            let what = format!("get pod {name} in namespace {namespace}");
            match read(&what, conn, || api.get_opt(name)).await? {
                Some(pod) => vec![pod],
                None => {
                    no_namespace(conn, namespace).await?;
                    return Err(Error::NoPod(format!(
                        "pod {name:?} not found in namespace {namespace:?} (context {:?})",
                        conn.context
                    ))
                    .into());
                }
            }
        }
        (None, Some(selector)) => {
            let lp = ListParams::default().labels(&selector.to_string());
            let what = format!("list pods in namespace {namespace}");
            let items = read(&what, conn, || api.list(&lp)).await?.items;
            if items.is_empty() {
                no_namespace(conn, namespace).await?;
            }
            items
        }
        (None, None) => return Err(crate::error::usage("no pod selector")),
    };
    let cands: Vec<Candidate> = pods.iter().map(Candidate::from_pod).collect();
    let mut revisions = BTreeMap::new();
    let mut note = None;
    if needs_revisions(&cands) {
        match replicaset_revisions(conn, namespace, query).await {
            Ok(r) => revisions = r,
            Err(e) => {
                note = Some(format!(
                    "note: could not read ReplicaSets ({e}); choosing by readiness only"
                ));
            }
        }
    }
    let choice = choose(cands, &revisions);
    let pods = pods
        .into_iter()
        .map(|p| (p.metadata.name.clone().unwrap_or_default(), p))
        .collect();
    Ok(Candidates {
        context: conn.context.clone(),
        namespace: namespace.to_owned(),
        pods,
        choice,
        revisions,
        note,
    })
}

/// The ReplicaSet revisions of the candidates, for `pods` to show under its REVISION
/// header: the choice reads them only when pods of several ReplicaSets compete. A Role
/// without `list replicasets` leaves them out, as the choice does.
pub async fn read_revisions(conn: &Connection, query: &PodQuery, found: &mut Candidates) {
    let any = found
        .choice
        .verdicts
        .iter()
        .any(|(c, _)| c.replicaset.is_some());
    if !found.revisions.is_empty() || !any {
        return;
    }
    match replicaset_revisions(conn, &found.namespace, query).await {
        Ok(r) => found.revisions = r,
        Err(e) => tracing::debug!(error = %chain(&e), "cannot read the ReplicaSets"),
    }
}

/// Listing pods in a namespace that does not exist finds none, as in an empty one: when a
/// search found nothing, say which it is (if the user may read namespaces; else stay silent,
/// the "no pod" message still names the namespace).
async fn no_namespace(conn: &Connection, namespace: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(conn.client.clone());
    match api.get_opt(namespace).await {
        Ok(None) => Err(Error::NoPod(format!(
            "namespace {namespace:?} does not exist (context {:?}); `kubectl get namespaces` lists them",
            conn.context
        ))
        .into()),
        Ok(Some(_)) => Ok(()),
        Err(e) => {
            tracing::debug!(error = %chain(&e), "cannot tell whether the namespace exists");
            Ok(())
        }
    }
}

async fn replicaset_revisions(
    conn: &Connection,
    namespace: &str,
    query: &PodQuery,
) -> Result<BTreeMap<String, RsInfo>, kube::Error> {
    let api: Api<ReplicaSet> = Api::namespaced(conn.client.clone(), namespace);
    let mut lp = ListParams::default();
    if let Some(sel) = &query.selector {
        lp = lp.labels(&sel.to_string());
    }
    let list = api.list(&lp).await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|rs| {
            let name = rs.metadata.name.clone()?;
            let revision = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .and_then(|r| r.parse().ok())?;
            let deployment = owner(&rs.metadata, "Deployment");
            Some((
                name,
                RsInfo {
                    deployment,
                    revision,
                },
            ))
        })
        .collect())
}

impl Candidates {
    /// The workloads (Deployments, or ReplicaSets without one) whose usable pods the
    /// selector matched, each with its pods, when there is more than one: choosing among
    /// them by readiness would pick web or worker by chance. Unknown (`None`) when the
    /// ReplicaSets could not be read.
    pub fn several_workloads(&self) -> Option<Vec<(String, Vec<String>)>> {
        let mut workloads: Vec<(String, Vec<String>)> = Vec::new();
        for (c, reason) in &self.choice.verdicts {
            if !matches!(reason, None | Some(crate::pod_select::Reason::LessRecent)) {
                continue;
            }
            let rs = c.replicaset.as_ref()?;
            let info = self.revisions.get(rs)?;
            let name = match &info.deployment {
                Some(d) => format!("Deployment {d}"),
                None => format!("ReplicaSet {rs}"),
            };
            match workloads.iter_mut().find(|(w, _)| *w == name) {
                Some((_, pods)) => pods.push(c.name.clone()),
                None => workloads.push((name, vec![c.name.clone()])),
            }
        }
        (workloads.len() > 1).then_some(workloads)
    }
}

/// What to say when the selector matches pods of several workloads.
pub fn several_workloads_text(selector: &str, workloads: &[(String, Vec<String>)]) -> String {
    let list: Vec<String> = workloads
        .iter()
        .map(|(w, pods)| format!("{w} (pod {})", pods.join(", ")))
        .collect();
    format!(
        "selector {selector:?} matches pods of several workloads: {}",
        list.join("; ")
    )
}

/// Choose the pod and container, or explain why none fits.
pub fn pick(c: Candidates, query: &PodQuery, notes: &mut Vec<String>) -> Result<PodTarget> {
    if let Some(n) = &c.note {
        notes.push(n.clone());
    }
    let Some(chosen) = c.choice.chosen() else {
        let what = match (&query.pod, &query.selector) {
            (Some(pod), _) => format!("pod {pod:?}"),
            (None, Some(sel)) => format!("selector {:?}", sel.to_string()),
            (None, None) => "the selector".to_owned(),
        };
        let mut msg = format!(
            "no running, ready pod for {what} in namespace {:?} (context {:?})",
            c.namespace, c.context
        );
        if !c.choice.verdicts.is_empty() {
            let reasons: Vec<String> = c
                .choice
                .verdicts
                .iter()
                .map(|(cand, r)| {
                    format!(
                        "{} ({})",
                        cand.name,
                        r.as_ref().map(ToString::to_string).unwrap_or_default()
                    )
                })
                .collect();
            msg.push_str(&format!("; matched: {}", reasons.join(", ")));
        }
        return Err(Error::NoPod(msg).into());
    };
    let pod = &c.pods[&chosen.name];
    let container = choose_container(pod, query.container.as_deref()).map_err(Error::NoPod)?;
    if let Some(w) = &container.warning {
        notes.push(w.clone());
    }
    if container.defaulted && !container.others.is_empty() {
        notes.push(format!(
            "Defaulted container {:?} out of: {}",
            container.name,
            container.others.join(", ")
        ));
    }
    let memory_limit = crate::headroom::limit(pod, &container.name);
    Ok(PodTarget {
        context: c.context,
        namespace: c.namespace,
        pod: chosen.name.clone(),
        container: container.name,
        uid: pod.metadata.uid.clone(),
        memory_limit,
        controller: controller(&pod.metadata),
    })
}

/// The name of the workload the pod belongs to: its ReplicaSet's Deployment, else its
/// controller (a ReplicaSet, StatefulSet, ...). It is the same for every pod, selector
/// and rollout of an app, so it names the lock of a custom command without `app`.
pub async fn workload(conn: &Connection, t: &PodTarget) -> Result<String> {
    let Some(c) = &t.controller else {
        return Err(crate::error::usage(format!(
            "pod {} has no Deployment or other controller to name the lock after; set app in kmigrate.toml or pass --app",
            t.pod
        )));
    };
    if c.kind != "ReplicaSet" {
        return Ok(c.name.clone());
    }
    // A list by name needs only the `list` the Role grants for choosing among ReplicaSets.
    let api: Api<ReplicaSet> = Api::namespaced(conn.client.clone(), &t.namespace);
    let lp = ListParams::default().fields(&format!("metadata.name={}", c.name));
    let what = format!(
        "list replicasets in namespace {} (to name the lock after the Deployment)",
        t.namespace
    );
    let found = read(&what, conn, || api.list(&lp)).await?;
    let rs = found.items.first().ok_or_else(|| {
        Error::NoPod(format!(
            "ReplicaSet {} of pod {} not found; set app in kmigrate.toml or pass --app",
            c.name, t.pod
        ))
    })?;
    Ok(owner(&rs.metadata, "Deployment").unwrap_or_else(|| c.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::testing::{Handle, list, mock_cluster, object, status};
    use crate::settings::Settings;
    use clap::Parser;
    use serde_json::json;

    fn query(args: &[&str]) -> PodQuery {
        let mut argv = vec!["kmigrate"];
        argv.extend_from_slice(args);
        let dir = tempfile::tempdir().unwrap();
        Settings::new(
            &crate::cli::Cli::try_parse_from(argv).unwrap(),
            dir.path(),
            &mut crate::config::Source::default(),
        )
        .unwrap()
        .pods
    }

    fn pod(name: &str, rs: &str, ready_at: &str) -> serde_json::Value {
        json!({
            "metadata": {"name": name, "namespace": "apps",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rs, "controller": true}]},
            "spec": {"containers": [{"name": "app"}, {"name": "proxy"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}]}
        })
    }

    #[tokio::test]
    async fn one_server_side_filtered_list_when_one_replicaset() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (req, send) = handle.next_request().await.expect("a request");
            assert_eq!(req.method(), "GET");
            assert_eq!(req.uri().path(), "/api/v1/namespaces/apps/pods");
            assert_eq!(req.uri().query(), Some("&labelSelector=app%3Ddemo"));
            send.send_response(list(vec![
                pod("a", "rs1", "2026-01-01T00:00:00Z"),
                pod("b", "rs1", "2026-01-02T00:00:00Z"),
            ]));
            // No second request: the ReplicaSets need not be read.
            assert!(
                tokio::time::timeout(std::time::Duration::from_millis(50), handle.next_request())
                    .await
                    .is_err()
            );
        });
        let s = query(&["-l", "app = demo", "pods"]);
        let c = candidates_in(&conn, "apps", &s).await.unwrap();
        server.await.unwrap();
        assert_eq!(c.choice.chosen().unwrap().name, "b");
        let mut notes = Vec::new();
        let t = pick(c, &s, &mut notes).unwrap();
        assert_eq!((t.pod.as_str(), t.container.as_str()), ("b", "app"));
        assert_eq!(notes, ["Defaulted container \"app\" out of: app, proxy"]);
    }

    /// `pods` shows a revision under its REVISION header even when one ReplicaSet has all
    /// the pods (the choice itself then needs no revisions).
    #[tokio::test]
    async fn pods_reads_the_revision_of_a_single_replicaset() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            send.send_response(list(vec![pod("a", "rs1", "2026-01-01T00:00:00Z")]));
            let (req, send) = handle.next_request().await.expect("replicasets");
            assert_eq!(
                req.uri().path(),
                "/apis/apps/v1/namespaces/apps/replicasets"
            );
            send.send_response(list(vec![
                json!({"metadata": {"name": "rs1", "namespace": "apps",
                "annotations": {"deployment.kubernetes.io/revision": "7"}}}),
            ]));
        });
        let s = query(&["-l", "app=demo", "pods"]);
        let mut c = candidates_in(&conn, "apps", &s).await.unwrap();
        assert!(c.revisions.is_empty(), "the choice did not need them");
        read_revisions(&conn, &s, &mut c).await;
        server.await.unwrap();
        assert_eq!(c.revisions.get("rs1").map(|i| i.revision), Some(7));
    }

    #[tokio::test]
    async fn two_replicasets_read_revisions_and_prefer_the_newest() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            send.send_response(list(vec![
                pod("old", "rs-old", "2026-01-03T00:00:00Z"),
                pod("new", "rs-new", "2026-01-01T00:00:00Z"),
            ]));
            let (req, send) = handle.next_request().await.expect("replicasets");
            assert_eq!(
                req.uri().path(),
                "/apis/apps/v1/namespaces/apps/replicasets"
            );
            assert_eq!(req.uri().query(), Some("&labelSelector=app%3Ddemo"));
            let rs = |name: &str, rev: &str| {
                json!({"metadata": {"name": name,
                "annotations": {"deployment.kubernetes.io/revision": rev},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "demo", "uid": "d"}]}})
            };
            send.send_response(list(vec![rs("rs-old", "1"), rs("rs-new", "2")]));
        });
        let c = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(c.choice.chosen().unwrap().name, "new");
        let old = c
            .choice
            .verdicts
            .iter()
            .find(|(c, _)| c.name == "old")
            .unwrap();
        assert_eq!(
            old.1.as_ref().unwrap().to_string(),
            "older ReplicaSet (revision 1; newest is 2)"
        );
        assert_eq!(c.several_workloads(), None, "one Deployment mid-rollout");
    }

    /// Two Deployments share the selector (web and worker): both are named with their
    /// pods, rather than one chosen silently.
    #[tokio::test]
    async fn a_selector_over_two_deployments_names_both() {
        let (conn, mut handle) = mock_cluster();
        tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            send.send_response(list(vec![
                pod("web-1", "rs-web", "2026-01-01T00:00:00Z"),
                pod("worker-1", "rs-worker", "2026-01-02T00:00:00Z"),
            ]));
            let (_, send) = handle.next_request().await.expect("replicasets");
            let rs = |name: &str, deploy: &str| {
                json!({"metadata": {"name": name,
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deploy, "uid": deploy}]}})
            };
            send.send_response(list(vec![rs("rs-web", "web"), rs("rs-worker", "worker")]));
        });
        let c = candidates_in(&conn, "apps", &query(&["-l", "app=shop", "pods"]))
            .await
            .unwrap();
        let several = c.several_workloads().expect("two workloads");
        assert_eq!(
            several_workloads_text("app=shop", &several),
            "selector \"app=shop\" matches pods of several workloads: Deployment worker (pod worker-1); Deployment web (pod web-1)"
        );
    }

    #[tokio::test]
    async fn forbidden_replicasets_fall_back_to_readiness() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            send.send_response(list(vec![
                pod("old", "rs-old", "2026-01-03T00:00:00Z"),
                pod("new", "rs-new", "2026-01-01T00:00:00Z"),
            ]));
            let (_, send) = handle.next_request().await.expect("replicasets");
            send.send_response(status(403, "Forbidden", "replicasets.apps is forbidden"));
        });
        let c = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(c.choice.chosen().unwrap().name, "old");
        assert!(c.note.unwrap().contains("readiness only"));
    }

    #[tokio::test]
    async fn forbidden_pod_list_is_permission_denied() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            send.send_response(status(
                403,
                "Forbidden",
                "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"apps\"",
            ));
        });
        let err = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .err()
            .unwrap();
        server.await.unwrap();
        assert_eq!(
            crate::error::exit_code_of(&err),
            crate::error::code::FORBIDDEN
        );
        assert!(
            err.to_string().contains("cannot list resource \"pods\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn forced_pod_that_does_not_exist_is_no_pod() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (req, send) = handle.next_request().await.expect("get");
            assert_eq!(req.uri().path(), "/api/v1/namespaces/apps/pods/ghost");
            send.send_response(status(404, "NotFound", "pods \"ghost\" not found"));
        });
        let err = candidates_in(&conn, "apps", &query(&["--pod", "ghost", "pods"]))
            .await
            .err()
            .unwrap();
        server.await.unwrap();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::NO_POD);
        assert!(
            err.to_string()
                .contains("\"ghost\" not found in namespace \"apps\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_pod_in_a_namespace_that_does_not_exist_says_so() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("list");
            send.send_response(list(vec![]));
            let (req, send) = handle.next_request().await.expect("namespace");
            assert_eq!(req.uri().path(), "/api/v1/namespaces/apps");
            send.send_response(status(404, "NotFound", "namespaces \"apps\" not found"));
        });
        let err = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .err()
            .unwrap();
        server.await.unwrap();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::NO_POD);
        assert!(
            err.to_string()
                .contains("namespace \"apps\" does not exist (context \"test\")"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_usable_pod_lists_the_reasons() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("pods");
            let mut p = pod("p", "rs", "2026-01-01T00:00:00Z");
            p["status"]["conditions"][0]["status"] = json!("False");
            send.send_response(list(vec![p]));
        });
        let s = query(&["-l", "app=demo", "pods"]);
        let c = candidates_in(&conn, "apps", &s).await.unwrap();
        server.await.unwrap();
        let err = pick(c, &s, &mut Vec::new()).err().unwrap();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::NO_POD);
        assert!(err.to_string().contains("p (not ready)"), "{err}");
    }

    /// A cluster with the app `shop`: Deployment `shop`, its ReplicaSet `shop-7d9f8` and
    /// pod `shop-7d9f8-x2k4q` (labels app=shop, tier=web). Answers by path, in any order.
    async fn serve_shop(mut handle: Handle) {
        let shop_pod = || {
            let mut p = pod("shop-7d9f8-x2k4q", "shop-7d9f8", "2026-01-01T00:00:00Z");
            p["metadata"]["labels"] = json!({"app": "shop", "tier": "web"});
            p
        };
        while let Some((req, send)) = handle.next_request().await {
            let query = req.uri().query().unwrap_or_default().to_owned();
            let response = match req.uri().path() {
                "/api/v1/namespaces/apps/pods" => list(vec![shop_pod()]),
                "/api/v1/namespaces/apps/pods/shop-7d9f8-x2k4q" => object(&shop_pod()),
                "/apis/apps/v1/namespaces/apps/replicasets"
                    if query.contains("fieldSelector=metadata.name%3Dshop-7d9f8") =>
                {
                    list(vec![json!({"metadata": {"name": "shop-7d9f8",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                            "name": "shop", "uid": "d", "controller": true}]}})])
                }
                other => status(404, "NotFound", &format!("{other}?{query} not found")),
            };
            send.send_response(response);
        }
    }

    /// `-l app=shop`, `-l app=shop,tier=web` and `--pod shop-7d9f8-x2k4q` find the same
    /// pod of the same app, so a custom command without `app` takes the same lock: the
    /// Deployment's, which outlives every ReplicaSet and pod of a rollout.
    #[tokio::test]
    async fn every_way_to_the_pod_names_the_lock_after_its_deployment() {
        for find in [
            &["-l", "app=shop"][..],
            &["-l", "app=shop,tier=web"],
            &["--pod", "shop-7d9f8-x2k4q"],
        ] {
            let (conn, handle) = mock_cluster();
            let server = tokio::spawn(serve_shop(handle));
            let args: Vec<&str> = find.iter().copied().chain(["pods"]).collect();
            let s = query(&args);
            let c = candidates_in(&conn, "apps", &s).await.unwrap();
            let t = pick(c, &s, &mut Vec::new()).unwrap();
            let name = workload(&conn, &t).await.unwrap();
            drop(conn);
            server.await.unwrap();
            assert_eq!(name, "shop", "{find:?}");
        }
    }

    #[tokio::test]
    async fn a_pod_without_a_controller_cannot_name_the_lock() {
        let (conn, _handle) = mock_cluster();
        let mut t = PodTarget {
            context: "test".into(),
            namespace: "apps".into(),
            pod: "scratch".into(),
            container: "app".into(),
            uid: None,
            memory_limit: None,
            controller: None,
        };
        let err = workload(&conn, &t).await.unwrap_err();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
        assert!(err.to_string().contains("pass --app"), "{err}");
        // Any other controller is the workload itself; no request is needed.
        t.controller = Some(Controller {
            kind: "StatefulSet".into(),
            name: "shop-db".into(),
        });
        let named = tokio::time::timeout(std::time::Duration::from_secs(5), workload(&conn, &t));
        assert_eq!(named.await.expect("no request").unwrap(), "shop-db");
    }

    #[tokio::test]
    async fn reads_are_retried_when_the_server_never_answered() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            let (_, send) = handle.next_request().await.expect("first try");
            send.send_error(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            ));
            let (_, send) = handle.next_request().await.expect("second try");
            send.send_response(list(vec![pod("a", "rs", "2026-01-01T00:00:00Z")]));
        });
        let c = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(c.choice.chosen().unwrap().name, "a");
    }

    #[tokio::test]
    async fn reads_give_up_after_three_tries_with_the_api_code() {
        let (conn, mut handle) = mock_cluster();
        let server = tokio::spawn(async move {
            for _ in 0..3 {
                let (_, send) = handle.next_request().await.expect("a try");
                send.send_error(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "refused",
                ));
            }
        });
        let err = candidates_in(&conn, "apps", &query(&["-l", "app=demo", "pods"]))
            .await
            .err()
            .unwrap();
        server.await.unwrap();
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::API);
        assert!(err.to_string().contains("https://mock"), "{err}");
    }
}
