//! Where a pod (and container) is chosen, and why the others were not.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

/// The name of the object's owner of this kind (a pod's ReplicaSet, a ReplicaSet's Deployment).
pub fn owner(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    kind: &str,
) -> Option<String> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == kind)
        .map(|o| o.name.clone())
}

/// The object that controls a pod (its ReplicaSet, StatefulSet, Job, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controller {
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// The object's controller, if it has one.
pub fn controller(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Option<Controller> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| Controller {
            kind: o.kind.clone(),
            name: o.name.clone(),
        })
}

/// The annotation kubectl reads for the default container.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// A ReplicaSet's place in its Deployment's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsInfo {
    /// The owning Deployment, if any.
    pub deployment: Option<String>,
    /// `deployment.kubernetes.io/revision`.
    pub revision: u64,
}

/// Why a pod was not chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// It has a deletionTimestamp.
    Terminating,
    /// Its phase is not Running.
    NotRunning(String),
    /// Running but its Ready condition is not True.
    NotReady,
    /// It belongs to an older ReplicaSet of the same Deployment.
    OlderReplicaSet {
        /// Its revision.
        revision: u64,
        /// The newest revision with a usable pod.
        newest: u64,
    },
    /// Usable, but another usable pod became ready more recently.
    LessRecent,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Terminating => write!(f, "terminating"),
            Reason::NotRunning(phase) => write!(f, "not running (phase {phase})"),
            Reason::NotReady => write!(f, "not ready"),
            Reason::OlderReplicaSet { revision, newest } => {
                write!(
                    f,
                    "older ReplicaSet (revision {revision}; newest is {newest})"
                )
            }
            Reason::LessRecent => write!(f, "usable, but another pod became ready more recently"),
        }
    }
}

/// What the chooser knows about one pod.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Pod name.
    pub name: String,
    /// Pod phase (`Unknown` when absent).
    pub phase: String,
    /// Ready condition is True.
    pub ready: bool,
    /// When the Ready condition last changed.
    pub ready_since: Option<Timestamp>,
    /// deletionTimestamp is set.
    pub terminating: bool,
    /// Controlling ReplicaSet.
    pub replicaset: Option<String>,
}

impl Candidate {
    /// Read the facts from a pod object.
    pub fn from_pod(pod: &Pod) -> Self {
        let status = pod.status.as_ref();
        let ready_cond = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
        let replicaset = controller(&pod.metadata)
            .filter(|c| c.kind == "ReplicaSet")
            .map(|c| c.name);
        Self {
            name: pod.metadata.name.clone().unwrap_or_default(),
            phase: status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            ready: ready_cond.is_some_and(|c| c.status == "True"),
            ready_since: ready_cond
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            replicaset,
        }
    }

    fn usable(&self) -> Option<Reason> {
        if self.terminating {
            Some(Reason::Terminating)
        } else if self.phase != "Running" {
            Some(Reason::NotRunning(self.phase.clone()))
        } else if !self.ready {
            Some(Reason::NotReady)
        } else {
            None
        }
    }
}

/// The verdict on every candidate: `None` for the chosen one, else why not.
#[derive(Debug)]
pub struct Choice {
    /// Candidates in a stable order (chosen first, then usable, then the rest by name).
    pub verdicts: Vec<(Candidate, Option<Reason>)>,
}

impl Choice {
    /// The chosen candidate, if any was usable.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.verdicts
            .iter()
            .find(|(_, r)| r.is_none())
            .map(|(c, _)| c)
    }
}

/// Whether revisions are needed to decide: usable pods from more than one ReplicaSet.
pub fn needs_revisions(cands: &[Candidate]) -> bool {
    let mut sets = cands
        .iter()
        .filter(|c| c.usable().is_none())
        .filter_map(|c| c.replicaset.as_deref());
    let first = sets.next();
    sets.any(|s| Some(s) != first)
}

/// Choose: Running, Ready, not terminating; then the newest ReplicaSet of each Deployment;
/// then the most recently ready; ties broken by name.
pub fn choose(cands: Vec<Candidate>, revisions: &BTreeMap<String, RsInfo>) -> Choice {
    let rs_of = |c: &Candidate| c.replicaset.as_ref().and_then(|rs| revisions.get(rs));
    let mut newest: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for c in cands.iter().filter(|c| c.usable().is_none()) {
        if let Some(info) = rs_of(c) {
            let entry = newest.entry(info.deployment.clone()).or_insert(0);
            *entry = (*entry).max(info.revision);
        }
    }
    let mut verdicts: Vec<(Candidate, Option<Reason>)> = cands
        .into_iter()
        .map(|c| {
            let reason = c.usable().or_else(|| {
                let info = rs_of(&c)?;
                let top = newest
                    .get(&info.deployment)
                    .copied()
                    .unwrap_or(info.revision);
                (info.revision < top).then_some(Reason::OlderReplicaSet {
                    revision: info.revision,
                    newest: top,
                })
            });
            (c, reason)
        })
        .collect();
    let best = verdicts
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| r.is_none())
        .max_by(|(_, (a, _)), (_, (b, _))| {
            a.ready_since
                .cmp(&b.ready_since)
                .then_with(|| b.name.cmp(&a.name))
        })
        .map(|(i, _)| i);
    for (i, (_, reason)) in verdicts.iter_mut().enumerate() {
        if reason.is_none() && Some(i) != best {
            *reason = Some(Reason::LessRecent);
        }
    }
    verdicts.sort_by(|(a, ra), (b, rb)| {
        let rank = |r: &Option<Reason>| match r {
            None => 0,
            Some(Reason::LessRecent) => 1,
            Some(_) => 2,
        };
        rank(ra).cmp(&rank(rb)).then_with(|| a.name.cmp(&b.name))
    });
    Choice { verdicts }
}

/// How the container was picked, for the note kubectl-style tools print.
#[derive(Debug, PartialEq, Eq)]
pub struct ContainerChoice {
    /// The container to exec in.
    pub name: String,
    /// All containers of the pod, when there is more than one.
    pub others: Vec<String>,
    /// True when neither `-c` nor the annotation decided.
    pub defaulted: bool,
    /// Set when the default-container annotation names a container the pod lacks.
    pub warning: Option<String>,
}

/// `-c`, else the default-container annotation, else the first container.
pub fn choose_container(pod: &Pod, requested: Option<&str>) -> Result<ContainerChoice, String> {
    let names: Vec<String> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let pod_name = pod.metadata.name.as_deref().unwrap_or("?");
    let others = if names.len() > 1 {
        names.clone()
    } else {
        Vec::new()
    };
    if let Some(want) = requested {
        return if names.iter().any(|n| n == want) {
            Ok(ContainerChoice {
                name: want.to_owned(),
                others,
                defaulted: false,
                warning: None,
            })
        } else {
            Err(format!(
                "pod {pod_name} has no container {want:?}; it has: {}",
                names.join(", ")
            ))
        };
    }
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION));
    if let Some(name) = annotated.filter(|a| names.contains(a)) {
        return Ok(ContainerChoice {
            name: name.clone(),
            others,
            defaulted: false,
            warning: None,
        });
    }
    // As kubectl: a default that names no container of the pod is warned about, and the
    // first container is used.
    let warning = annotated.map(|a| {
        format!(
            "warning: pod {pod_name}'s {DEFAULT_CONTAINER_ANNOTATION} annotation names container {a:?}, which the pod does not have; using the first container"
        )
    });
    match names.first() {
        Some(first) => Ok(ContainerChoice {
            name: first.clone(),
            others,
            defaulted: true,
            warning,
        }),
        None => Err(format!("pod {pod_name} has no containers")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, phase: &str, ready: bool, since: i64, rs: Option<&str>) -> Candidate {
        Candidate {
            name: name.into(),
            phase: phase.into(),
            ready,
            ready_since: Some(Timestamp::from_second(since).unwrap()),
            terminating: false,
            replicaset: rs.map(Into::into),
        }
    }

    fn reason_of<'a>(c: &'a Choice, name: &str) -> &'a Option<Reason> {
        &c.verdicts.iter().find(|(c, _)| c.name == name).unwrap().1
    }

    #[test]
    fn a_default_that_names_no_container_is_warned_about() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-1", "annotations": {"kubectl.kubernetes.io/default-container": "gone"}},
            "spec": {"containers": [{"name": "app"}, {"name": "proxy"}]}
        }))
        .unwrap();
        let c = choose_container(&pod, None).unwrap();
        assert_eq!(c.name, "app");
        let w = c.warning.unwrap();
        assert!(
            w.contains("default-container") && w.contains("\"gone\""),
            "{w}"
        );
    }

    #[test]
    fn filters_unusable_pods_with_reasons() {
        let mut gone = cand("gone", "Running", true, 50, None);
        gone.terminating = true;
        let cands = vec![
            cand("pending", "Pending", false, 0, None),
            cand("unready", "Running", false, 10, None),
            gone,
            cand("ok", "Running", true, 5, None),
        ];
        let choice = choose(cands, &BTreeMap::new());
        assert_eq!(choice.chosen().unwrap().name, "ok");
        assert_eq!(
            reason_of(&choice, "pending"),
            &Some(Reason::NotRunning("Pending".into()))
        );
        assert_eq!(reason_of(&choice, "unready"), &Some(Reason::NotReady));
        assert_eq!(reason_of(&choice, "gone"), &Some(Reason::Terminating));
        assert_eq!(choice.verdicts[0].0.name, "ok");
    }

    #[test]
    fn prefers_newest_replicaset_then_most_recent() {
        let cands = vec![
            cand("old-a", "Running", true, 100, Some("rs-old")),
            cand("new-a", "Running", true, 10, Some("rs-new")),
            cand("new-b", "Running", true, 20, Some("rs-new")),
        ];
        assert!(needs_revisions(&cands));
        let revs = BTreeMap::from([
            (
                "rs-old".to_string(),
                RsInfo {
                    deployment: Some("demo".into()),
                    revision: 1,
                },
            ),
            (
                "rs-new".to_string(),
                RsInfo {
                    deployment: Some("demo".into()),
                    revision: 2,
                },
            ),
        ]);
        let choice = choose(cands.clone(), &revs);
        assert_eq!(choice.chosen().unwrap().name, "new-b");
        assert_eq!(
            reason_of(&choice, "old-a"),
            &Some(Reason::OlderReplicaSet {
                revision: 1,
                newest: 2
            })
        );
        assert_eq!(reason_of(&choice, "new-a"), &Some(Reason::LessRecent));
        // Without revisions (RBAC forbids reading ReplicaSets) the most recently ready wins.
        assert_eq!(
            choose(cands, &BTreeMap::new()).chosen().unwrap().name,
            "old-a"
        );
    }

    #[test]
    fn newest_revision_counts_only_usable_pods() {
        let cands = vec![
            cand("old", "Running", true, 1, Some("rs1")),
            cand("broken-new", "Running", false, 2, Some("rs2")),
        ];
        assert!(!needs_revisions(&cands));
        let revs = BTreeMap::from([
            (
                "rs1".to_string(),
                RsInfo {
                    deployment: Some("d".into()),
                    revision: 1,
                },
            ),
            (
                "rs2".to_string(),
                RsInfo {
                    deployment: Some("d".into()),
                    revision: 2,
                },
            ),
        ]);
        assert_eq!(choose(cands, &revs).chosen().unwrap().name, "old");
    }

    #[test]
    fn ties_break_by_name_and_none_usable_means_none() {
        let cands = vec![
            cand("b", "Running", true, 1, None),
            cand("a", "Running", true, 1, None),
        ];
        assert_eq!(choose(cands, &BTreeMap::new()).chosen().unwrap().name, "a");
        let none = choose(vec![cand("x", "Failed", false, 1, None)], &BTreeMap::new());
        assert!(none.chosen().is_none());
    }

    fn pod(containers: &[&str], annotation: Option<&str>) -> Pod {
        let mut p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": containers.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>()}
        }))
        .unwrap();
        if let Some(a) = annotation {
            p.metadata.annotations =
                Some([(DEFAULT_CONTAINER_ANNOTATION.to_string(), a.to_string())].into());
        }
        p
    }

    #[test]
    fn container_choice_order() {
        let c = choose_container(&pod(&["app", "proxy"], None), None).unwrap();
        assert_eq!(
            (c.name.as_str(), c.defaulted, c.others.len()),
            ("app", true, 2)
        );
        let c = choose_container(&pod(&["proxy", "app"], Some("app")), None).unwrap();
        assert_eq!((c.name.as_str(), c.defaulted), ("app", false));
        let c = choose_container(&pod(&["proxy", "app"], Some("app")), Some("proxy")).unwrap();
        assert_eq!(c.name, "proxy");
        let err = choose_container(&pod(&["app"], None), Some("web")).unwrap_err();
        assert!(
            err.contains("no container \"web\"") && err.contains("app"),
            "{err}"
        );
        let c = choose_container(&pod(&["only"], Some("missing")), None).unwrap();
        assert_eq!((c.name.as_str(), c.others.len()), ("only", 0));
    }
}
