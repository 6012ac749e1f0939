//! RBAC: a restricted user is told what is missing; the shipped Role is enough and minimal.

use std::time::Duration;

use crate::harness::{Ns, V1, kubectl, kubectl_out, local, release};
use crate::job::{Extra, job_deployment};
use crate::support::{kmigrate, repo, report, wait_for};

#[test]
fn restricted_user_gets_permission_denied() {
    let ns = Ns::with_demo_pod("rbac", &[]);
    let alice = || {
        kmigrate()
            .env("KUBECONFIG", &local().alice)
            .args(["-n", &ns.name])
    };
    alice()
        .args(["pods", "-l", "app=demo"])
        .expect_stderr("permission denied")
        .expect_stderr("cannot list resource \"pods\"")
        .status(77);
    ns.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: read-pods\nrules:\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: alice-read\nsubjects:\n- kind: User\n  name: alice\n  apiGroup: rbac.authorization.k8s.io\n\
roleRef:\n  kind: Role\n  name: read-pods\n  apiGroup: rbac.authorization.k8s.io\n",
    );
    wait_for("alice can list pods", Duration::from_secs(20), || {
        alice()
            .args(["pods", "-l", "app=demo"])
            .status_any()
            .status
            .success()
    });
    let out = alice()
        .args(["exec", "-l", "app=demo", "-o", "json", "--", "true"])
        .expect_stderr("pods/exec")
        .expect_stderr("kmigrate init")
        .status(77);
    assert_eq!(report(&out).pod.as_deref(), Some("demo-0"));
}
/// The shipped Role, bound to alice, with the `skip`-th rule left out.
pub fn shipped_role_for_alice(ns: &Ns, skip: Option<usize>) {
    let text = std::fs::read_to_string(repo().join("rbac/kmigrate.yaml")).unwrap();
    let (head, rest) = text.split_once("\nrules:\n").unwrap();
    let (rules, tail) = rest.split_once("\n---\n").unwrap();
    let blocks: Vec<&str> = rules.split("\n  - apiGroups").collect();
    let kept: Vec<String> = blocks
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(i, b)| {
            if i == 0 {
                (*b).to_owned()
            } else {
                format!("  - apiGroups{b}")
            }
        })
        .collect();
    let role = format!(
        "{head}\nrules:\n{}\n---\n{}",
        kept.join("\n"),
        tail.replace("REPLACE-WITH-USER", "alice")
    );
    ns.apply(&role);
}

#[test]
fn the_shipped_role_is_enough_and_each_required_rule_is_needed() {
    let ns = Ns::with_demo_pod("role", &[]);
    let dir = crate::support::scratch_dir("role");
    std::fs::write(
        dir.join("kmigrate.toml"),
        format!(
            "selector = \"app=demo\"\nnamespace = \"{}\"\nrelease = \"{}\"\nlock = \"required\"\n",
            ns.name,
            release()
        ),
    )
    .unwrap();
    let alice = || kmigrate().dir(&dir).env("KUBECONFIG", &local().alice);
    shipped_role_for_alice(&ns, None);
    wait_for("alice's Role", Duration::from_secs(20), || {
        alice().args(["pods"]).status_any().status.success()
    });
    alice().args(["status"]).status(0);
    alice().args(["migrate"]).status(0);
    alice().args(["rollback", "--step", "1"]).status(0);
    alice().args(["exec", "--", "true"]).status(0);
    let r = report(&alice().args(["migrate", "-o", "json"]).status(0));
    assert_eq!(r.lock.as_deref(), Some("kmigrate-demo"));
    assert_eq!(r.user.as_deref(), Some("alice"));
    // Blocks in file order: the comment before the first rule, then pods, pods/exec,
    // replicasets (optional), leases, events (optional), then Job mode's: deployments,
    // jobs, pods/log, and (9) delete on jobs.
    for (skip, denied) in [(1, "\"pods\""), (2, "\"pods/exec\""), (4, "\"leases\"")] {
        shipped_role_for_alice(&ns, Some(skip));
        let mut last = None;
        wait_for(
            &format!("the Role without rule {skip}"),
            Duration::from_secs(20),
            || {
                let out = alice().args(["migrate"]).status_any();
                let hit = out.status.code() == Some(77);
                last = Some(out);
                hit
            },
        );
        let out = last.unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("permission denied") && err.contains(denied),
            "rule {skip}: {err}"
        );
    }
    // Job mode: a pod that cannot start has its Job deleted (71). Without the last rule,
    // delete on jobs, the Job stays and may start later: the outcome is unknown (75).
    job_deployment(
        &ns,
        "held",
        "0",
        0,
        Extra {
            labels: "kmigrate.test/image: missing",
            ..Extra::default()
        },
    );
    let held = || {
        alice().args([
            "migrate",
            "--deployment",
            "held",
            "--image",
            "demo:404",
            "--start-grace",
            "1s",
        ])
    };
    let alice_may_delete_jobs = || {
        kubectl_out(&[
            "-n", &ns.name, "auth", "can-i", "delete", "jobs", "--as", "alice",
        ]) == "yes"
    };
    shipped_role_for_alice(&ns, None);
    wait_for(
        "alice may delete Jobs",
        Duration::from_secs(20),
        alice_may_delete_jobs,
    );
    held().expect_stderr("was deleted").status(71);
    shipped_role_for_alice(&ns, Some(9));
    wait_for("alice may not delete Jobs", Duration::from_secs(20), || {
        !alice_may_delete_jobs()
    });
    held()
        .expect_stderr("cannot delete resource \"jobs\"")
        .expect_stderr(" logs kmigrate-")
        .status(75);
}

#[test]
fn exec_allowed_to_get_but_not_create_names_the_missing_verb() {
    let ns = Ns::with_demo_pod("rbac-get", &[]);
    ns.apply(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: get-exec\nrules:\n- apiGroups: [\"\"]\n  resources: [pods, pods/exec]\n  verbs: [get, list]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: alice-get-exec\nsubjects:\n- kind: User\n  name: alice\n  apiGroup: rbac.authorization.k8s.io\n\
roleRef:\n  kind: Role\n  name: get-exec\n  apiGroup: rbac.authorization.k8s.io\n",
    );
    let alice = || {
        kmigrate()
            .env("KUBECONFIG", &local().alice)
            .args(["-n", &ns.name])
    };
    wait_for("alice can list pods", Duration::from_secs(20), || {
        alice()
            .args(["pods", "-l", "app=demo"])
            .status_any()
            .status
            .success()
    });
    // The API server's own message ends at "is forbidden: "; kmigrate asks which verb.
    alice()
        .args(["exec", "-l", "app=demo", "--", "true"])
        .expect_stderr("the user may not create pods/exec in namespace")
        .expect_stderr("kmigrate init")
        .status(77);
}

#[test]
fn a_protection_mark_the_user_may_not_read_is_said_and_the_configmap_protects() {
    let ns = Ns::with_demo_pod("mark", &[]);
    kubectl(&["label", "namespace", &ns.name, "kmigrate.io/protected=true"]);
    shipped_role_for_alice(&ns, None);
    let dir = crate::support::scratch_dir("mark");
    std::fs::write(
        dir.join("kmigrate.toml"),
        format!(
            "selector = \"app=demo\"\nnamespace = \"{}\"\nrelease = \"{}\"\n",
            ns.name,
            release()
        ),
    )
    .unwrap();
    let alice = || kmigrate().dir(&dir).env("KUBECONFIG", &local().alice);
    wait_for("alice's Role", Duration::from_secs(20), || {
        alice().args(["pods"]).status_any().status.success()
    });
    // The label is on the namespace, which the shipped Role cannot read: the run goes on,
    // but says that mark was not checked, on stderr and in JSON.
    let out = alice()
        .args(["migrate", "-o", "json"])
        .expect_stderr("protection mark not checked")
        .expect_stderr(&format!("may not get namespace \"{}\"", ns.name))
        .status(0);
    let r = report(&out);
    assert!(!r.protected);
    assert_eq!(
        r.protection_unchecked.len(),
        1,
        "{:?}",
        r.protection_unchecked
    );
    // The namespaced mark the shipped Role may read protects: no terminal, no --yes.
    ns.apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kmigrate\ndata:\n  protected: \"true\"\n");
    let out = alice()
        .args(["rollback", "--step", "1", "-o", "json"])
        .expect_stderr("ConfigMap kmigrate")
        .status(73);
    assert!(report(&out).protected);
    assert_eq!(ns.applied().len(), 3);
}

/// The default best-effort lock runs without the lock where RBAC forbids leases, and says
/// so; a protected environment never does: it is refused (77) before anything runs.
#[test]
fn a_protected_run_never_goes_without_a_lock_it_may_not_take() {
    let ns = Ns::with_demo_pod("lockless", &[]);
    let config = |extra: &str| {
        let dir = crate::support::scratch_dir("lockless");
        std::fs::write(
            dir.join("kmigrate.toml"),
            format!(
                "selector = \"app=demo\"\nnamespace = \"{}\"\nrelease = \"{}\"\n{extra}",
                ns.name,
                release(),
            ),
        )
        .unwrap();
        dir
    };
    let (plain, live) = (config(""), config("\n[env.live]\nprotected = true\n"));
    let alice = |dir: &std::path::Path| kmigrate().dir(dir).env("KUBECONFIG", &local().alice);
    // The shipped Role without its leases rule (block 4).
    shipped_role_for_alice(&ns, Some(4));
    wait_for("alice's Role", Duration::from_secs(20), || {
        alice(&plain).args(["pods"]).status_any().status.success()
    });
    alice(&plain)
        .args(["migrate", "--to", &V1.to_string()])
        .expect_stderr("note: running without the single-runner lock")
        .status(0);
    assert_eq!(ns.applied(), [V1]);
    alice(&live)
        .args(["-e", "live", "migrate", "--yes"])
        .expect_stderr("a protected environment does not run without the single-runner lock")
        .expect_stderr("\"leases\"")
        .status(77);
    assert_eq!(ns.applied(), [V1], "nothing ran unlocked");
}
