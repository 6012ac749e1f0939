//! What the configured features need to be allowed, one group per check, as the shipped
//! Role (`rbac/kmigrate.yaml`) grants it.

use crate::access::{EXEC, Permission};
use crate::lock::LockMode;
use crate::protection_mark::CONFIG_MAP;
use crate::settings::Settings;

/// What a missing permission of a group does to kmigrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// kmigrate stops: the check fails.
    Fails,
    /// kmigrate works with less: the check warns, saying what.
    Degrades(&'static str),
}

/// The permissions one feature needs, checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// The check's name: `rbac:<feature>`.
    pub check: &'static str,
    /// What the feature is, for the detail.
    pub what: &'static str,
    /// Every permission it needs.
    pub wanted: Vec<Permission<'a>>,
    /// What lacking one of them does.
    pub missing: Missing,
}

const fn perm(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
) -> Permission<'static> {
    Permission {
        verb,
        group,
        resource,
        subresource: None,
        name: None,
    }
}

/// The check that finds the pods.
pub const PODS: &str = "rbac:pods";
/// The check that runs commands in them.
pub const EXEC_CHECK: &str = "rbac:exec";

/// The groups the settings need, in the order checked. `namespace` is where the app
/// runs (the namespace's own object is read by that name).
pub fn groups<'a>(settings: &Settings, namespace: &'a str) -> Vec<Group<'a>> {
    let mut out = vec![
        Group {
            check: PODS,
            what: "find the app's pods",
            wanted: vec![perm("list", "", "pods"), perm("get", "", "pods")],
            missing: Missing::Fails,
        },
        Group {
            check: EXEC_CHECK,
            what: "run the release in a pod",
            wanted: EXEC.to_vec(),
            missing: Missing::Fails,
        },
    ];
    if settings.lock != LockMode::Off {
        out.push(Group {
            check: "rbac:lock",
            what: "take the single-runner lock (a Lease)",
            wanted: ["get", "create", "update", "delete"]
                .into_iter()
                .map(|v| perm(v, "coordination.k8s.io", "leases"))
                .collect(),
            missing: Missing::Fails,
        });
    }
    if settings.audit {
        out.push(Group {
            check: "rbac:audit",
            what: "record each run as an Event",
            wanted: vec![perm("create", "events.k8s.io", "events")],
            missing: Missing::Degrades("runs go on without their audit Event"),
        });
    }
    if settings.job.is_some() {
        let mut wanted: Vec<Permission<'a>> = ["create", "get", "list", "delete"]
            .into_iter()
            .map(|v| perm(v, "batch", "jobs"))
            .collect();
        wanted.push(perm("get", "apps", "deployments"));
        wanted.push(perm("get", "apps", "replicasets"));
        wanted.push(Permission {
            subresource: Some("log"),
            ..perm("get", "", "pods")
        });
        out.push(Group {
            check: "rbac:job",
            what: "run migrations in a Job (Job mode)",
            wanted,
            missing: Missing::Fails,
        });
    }
    out.push(Group {
        check: "rbac:replicasets",
        what: "prefer the newest ReplicaSet during a rollout",
        wanted: vec![perm("list", "apps", "replicasets")],
        missing: Missing::Degrades("pods are chosen by readiness only during a rollout"),
    });
    if settings.protection.marks_off {
        return out;
    }
    out.push(Group {
        check: "rbac:namespace",
        what: "read the namespace's kmigrate.io/protected mark",
        wanted: vec![Permission {
            name: Some(namespace),
            ..perm("get", "", "namespaces")
        }],
        missing: Missing::Degrades("the namespace's protection mark is not checked"),
    });
    out.push(Group {
        check: "rbac:configmap",
        what: "read the kmigrate ConfigMap's protection mark",
        wanted: vec![Permission {
            name: Some(CONFIG_MAP),
            ..perm("get", "", "configmaps")
        }],
        missing: Missing::Degrades("the ConfigMap's protection mark is not checked"),
    });
    out
}

/// The fix for a group that lacks `missing`.
pub fn fix(group: &Group<'_>, missing: &[String], namespace: &str) -> String {
    let me = crate::program_name::get();
    let how = if group.check == "rbac:namespace" {
        format!("the optional ClusterRole at the end of the Role `{me} init --rbac` prints")
    } else {
        format!("the Role `{me} init --rbac` prints, bound to you")
    };
    let mut fix = format!(
        "ask for {} in namespace {namespace:?}: apply {how}",
        missing.join(", ")
    );
    if group.check == "rbac:lock" {
        fix.push_str("; or run with KMIGRATE_LOCK=off in the environment to go without the lock");
    }
    fix
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(args: &[&str]) -> Vec<&'static str> {
        let s = crate::cmd::testing::settings(args);
        groups(&s, "shop").iter().map(|g| g.check).collect()
    }

    #[test]
    fn no_lock_needs_no_lease() {
        let mut s = crate::cmd::testing::settings(&["doctor"]);
        s.lock = LockMode::Off;
        assert!(!groups(&s, "shop").iter().any(|g| g.check == "rbac:lock"));
    }

    #[test]
    fn no_audit_and_no_marks_need_no_event_or_mark_rights() {
        let mut s = crate::cmd::testing::settings(&["doctor"]);
        s.audit = false;
        s.protection.marks_off = true;
        let checks: Vec<_> = groups(&s, "shop").iter().map(|g| g.check).collect();
        for gone in ["rbac:audit", "rbac:namespace", "rbac:configmap"] {
            assert!(!checks.contains(&gone), "{gone}: {checks:?}");
        }
        assert!(checks.contains(&"rbac:lock"));
    }

    #[test]
    fn the_configured_features_decide_the_groups() {
        let all = [
            "rbac:pods",
            "rbac:exec",
            "rbac:lock",
            "rbac:audit",
            "rbac:replicasets",
            "rbac:namespace",
            "rbac:configmap",
        ];
        assert_eq!(checks(&["doctor"]), all);
        let s = crate::cmd::testing::settings(&["doctor"]);
        let g = groups(&s, "shop");
        let shown: Vec<String> = g[1].wanted.iter().map(Permission::shown).collect();
        assert_eq!(shown, ["create pods/exec", "get pods/exec"]);
        assert_eq!(
            g[6].wanted[0].shown(),
            "get configmaps \"kmigrate\"",
            "the shipped Role names the ConfigMap"
        );
        assert_eq!(g[5].wanted[0].name, Some("shop"));
    }

    #[test]
    fn the_lock_fix_offers_to_turn_it_off() {
        let s = crate::cmd::testing::settings(&["doctor"]);
        let g = groups(&s, "shop");
        let lock = g.iter().find(|g| g.check == "rbac:lock").unwrap();
        let f = fix(lock, &["create leases.coordination.k8s.io".into()], "shop");
        assert!(
            f.contains("create leases.coordination.k8s.io in namespace \"shop\""),
            "{f}"
        );
        assert!(
            f.contains("kmigrate init") && f.contains("KMIGRATE_LOCK=off"),
            "{f}"
        );
    }
}
