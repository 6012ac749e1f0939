//! Resolving the pod and container a run acts on, through the API.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use crate::cluster::{Cluster, classify, connect, is_transient};
use crate::error::Error;
use crate::pod_select::{Candidate, Choice, RsInfo, choose, choose_container, needs_revisions};
use crate::settings::Settings;

/// The pod and container to run in.
pub struct Target {
    /// Connected clients.
    pub cluster: Cluster,
    /// Namespace of the pod.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
}

/// The pods a selector matched and the verdict on each.
pub struct Candidates {
    /// Connected clients.
    pub cluster: Cluster,
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
async fn read<T, F, Fut>(what: &str, cluster: &Cluster, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 3 && is_transient(&e) => {
                tracing::info!(attempt, error = %e, "{what} failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(classify(e, what, cluster)),
        }
    }
    unreachable!("the loop returns")
}

/// Connect and list the candidate pods with a server-side label selector.
pub async fn candidates(settings: &Settings) -> Result<Candidates> {
    let cluster = connect(&settings.kube).await?;
    let namespace = settings
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace.clone());
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let pods: Vec<Pod> = match (&settings.pod, &settings.selector) {
        (Some(name), _) => {
            let what = format!("get pod {name} in namespace {namespace}");
            match read(&what, &cluster, || api.get_opt(name)).await? {
                Some(pod) => vec![pod],
                None => {
                    return Err(Error::NoPod(format!(
                        "pod {name:?} not found in namespace {namespace:?} (context {:?})",
                        cluster.context
                    ))
                    .into());
                }
            }
        }
        (None, Some(selector)) => {
            let lp = ListParams::default().labels(&selector.to_string());
            let what = format!("list pods in namespace {namespace}");
            read(&what, &cluster, || api.list(&lp)).await?.items
        }
        (None, None) => return Err(crate::error::usage("no pod selector")),
    };
    let cands: Vec<Candidate> = pods.iter().map(Candidate::from_pod).collect();
    let mut revisions = BTreeMap::new();
    let mut note = None;
    if needs_revisions(&cands) {
        match replicaset_revisions(&cluster, &namespace, settings).await {
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
        cluster,
        namespace,
        pods,
        choice,
        revisions,
        note,
    })
}

async fn replicaset_revisions(
    cluster: &Cluster,
    namespace: &str,
    settings: &Settings,
) -> Result<BTreeMap<String, RsInfo>, kube::Error> {
    let api: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), namespace);
    let mut lp = ListParams::default();
    if let Some(sel) = &settings.selector {
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
            let deployment = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.kind == "Deployment")
                .map(|o| o.name.clone());
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

/// Choose the pod and container, or explain why none fits.
pub fn pick(c: Candidates, settings: &Settings, notes: &mut Vec<String>) -> Result<Target> {
    if let Some(n) = &c.note {
        notes.push(n.clone());
    }
    let Some(chosen) = c.choice.chosen() else {
        let what = match (&settings.pod, &settings.selector) {
            (Some(pod), _) => format!("pod {pod:?}"),
            (None, Some(sel)) => format!("selector {:?}", sel.to_string()),
            (None, None) => "the selector".to_owned(),
        };
        let mut msg = format!(
            "no running, ready pod for {what} in namespace {:?} (context {:?})",
            c.namespace, c.cluster.context
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
    let container = choose_container(pod, settings.container.as_deref()).map_err(Error::NoPod)?;
    if container.defaulted && !container.others.is_empty() {
        notes.push(format!(
            "Defaulted container {:?} out of: {}",
            container.name,
            container.others.join(", ")
        ));
    }
    Ok(Target {
        pod: chosen.name.clone(),
        container: container.name,
        namespace: c.namespace,
        cluster: c.cluster,
    })
}
