//! The schema gate's init container, built from a Deployment: pure, no I/O.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::json;

use crate::job::{Entrypoint, app_container, start};
use crate::protocol::WAIT_TAG;

/// The init container's name: a strategic-merge patch finds it again by this name.
pub const NAME: &str = "kmigrate-gate";

/// The gate for a Deployment: its app container's image (or `image`), `argv` as the
/// command (or, under [`Entrypoint::Keep`], as the arguments of the entrypoint the app runs
/// under: see [`start`]), and the app container's database settings (`env`, `envFrom`, `volumeMounts`)
/// and `securityContext` (and pull policy), so that the gate reads the database the app
/// will use, as the app would be allowed to.
pub fn build(
    deploy: &Deployment,
    container: Option<&str>,
    image: &str,
    argv: &[String],
    entrypoint: Entrypoint,
) -> Result<Container, String> {
    let app = app_container(deploy, container)?;
    let (command, args) = match entrypoint {
        Entrypoint::Replace => (Some(argv.to_vec()), None),
        Entrypoint::Keep => start(app, argv),
    };
    Ok(Container {
        name: NAME.to_owned(),
        image: Some(image.to_owned()),
        image_pull_policy: app.image_pull_policy.clone(),
        command,
        args,
        env: app.env.clone(),
        env_from: app.env_from.clone(),
        volume_mounts: app.volume_mounts.clone(),
        security_context: app.security_context.clone(),
        resources: Some(resources()),
        ..Container::default()
    })
}

/// Small on purpose: the gate is one VM with the app's code that reads a table every 2 s
/// (little CPU, roughly 100 MiB). An init container's requests count toward the pod's only
/// where they exceed the app containers' sum, so these never make the pod harder to
/// schedule; the memory limit is the headroom kmigrate asks for an `eval` VM elsewhere,
/// and there is no CPU limit, so the VM's start is not throttled.
fn resources() -> ResourceRequirements {
    let q = |s: &str| Quantity(s.to_owned());
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), q("50m")),
            ("memory".to_owned(), q("128Mi")),
        ])),
        limits: Some(BTreeMap::from([("memory".to_owned(), q("256Mi"))])),
        ..ResourceRequirements::default()
    }
}

/// A strategic-merge patch that adds the gate to a Deployment (or replaces it: init
/// containers merge by name), for `kubectl patch deployment NAME --patch-file FILE`.
pub fn patch(gate: &Container) -> serde_json::Value {
    let mut entry = serde_json::to_value(gate).unwrap_or_default();
    // A strategic merge keeps the fields a patch leaves out: a `null` removes the `command`
    // (or `args`) of a gate added before with the other `--entrypoint`, which would
    // otherwise run with both.
    if let Some(fields) = entry.as_object_mut() {
        for key in ["command", "args"] {
            fields.entry(key).or_insert(serde_json::Value::Null);
        }
    }
    json!({"spec": {"template": {"spec": {"initContainers": [entry]}}}})
}

/// Whether an init container is a schema gate: the one `gate` writes (by its name, or, when
/// renamed, by the wait snippet it runs), or `kmigrate wait` run from kmigrate's own image.
/// A Job that kept it would wait for the very migrations it exists to apply.
pub fn is_gate(c: &Container) -> bool {
    let argv: Vec<&str> = c
        .command
        .iter()
        .chain(c.args.iter())
        .flatten()
        .map(String::as_str)
        .collect();
    let runs_the_wait_snippet = argv.iter().any(|a| a.contains(WAIT_TAG));
    let runs_kmigrate_wait = argv.first().is_some_and(|program| {
        let file = program.rsplit('/').next().unwrap_or_default();
        matches!(file, "kmigrate" | "kubectl-kmigrate")
    }) && argv.contains(&"wait");
    c.name == NAME || runs_the_wait_snippet || runs_kmigrate_wait
}

/// The Deployment's schema gates ([`is_gate`]), in template order.
pub fn gates(deploy: &Deployment) -> Vec<&Container> {
    deploy
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.init_containers.as_ref())
        .map(|cs| cs.iter().filter(|c| is_gate(c)).collect())
        .unwrap_or_default()
}

/// A gate that runs another image than the app container: new pods then wait for that
/// image's migrations, not their own (or pass at once). What is wrong, and the fix.
pub fn image_mismatch(deploy: &Deployment, container: Option<&str>) -> Option<(String, String)> {
    let app = app_container(deploy, container).ok()?;
    let app_image = app.image.as_deref().unwrap_or_default();
    let deploy_name = deploy.metadata.name.as_deref().unwrap_or_default();
    let gate = gates(deploy)
        .into_iter()
        .find(|g| g.image.as_deref().unwrap_or_default() != app_image)?;
    let gate_image = gate.image.as_deref().unwrap_or("(none)");
    Some((
        format!(
            "the schema gate {} of Deployment {deploy_name} runs image {gate_image}, but its \
             container {} runs {app_image}: new pods wait for the migrations of {gate_image}, \
             not their own",
            gate.name, app.name
        ),
        format!(
            "give both the same image in every rollout: \
             `kubectl set image deployment/{deploy_name} {}=IMAGE {}=IMAGE`",
            app.name, gate.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::Mode;
    use crate::ecto_snippet::Operation;
    use crate::job::deployment;
    use std::time::Duration;

    fn pod_spec(d: &mut Deployment) -> &mut k8s_openapi::api::core::v1::PodSpec {
        d.spec.as_mut().unwrap().template.spec.as_mut().unwrap()
    }

    fn argv() -> Vec<String> {
        ["/app/bin/shop", "eval", "code"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn the_gate_copies_what_reaches_the_database() {
        let mut d = deployment();
        let web = &mut pod_spec(&mut d).containers[1];
        web.volume_mounts = Some(vec![
            serde_json::from_value(
                json!({"name": "secrets", "mountPath": "/etc/shop", "readOnly": true}),
            )
            .unwrap(),
        ]);
        web.security_context =
            Some(serde_json::from_value(json!({"readOnlyRootFilesystem": true})).unwrap());
        web.image_pull_policy = Some("Always".into());
        let gate = build(&d, None, "shop:2", &argv(), Entrypoint::Replace).unwrap();
        let value = serde_json::to_value(&gate).unwrap();
        assert_eq!(value["name"], NAME);
        assert_eq!(value["image"], "shop:2");
        assert_eq!(value["imagePullPolicy"], "Always");
        assert_eq!(value["command"], json!(["/app/bin/shop", "eval", "code"]));
        assert!(value["args"].is_null());
        assert_eq!(
            value["env"],
            json!([{"name": "DATABASE_URL", "value": "x"}])
        );
        assert_eq!(value["envFrom"], json!([{"secretRef": {"name": "shop"}}]));
        assert_eq!(value["volumeMounts"][0]["mountPath"], "/etc/shop");
        assert_eq!(value["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(value["resources"]["requests"]["memory"], "128Mi");
        assert_eq!(value["resources"]["limits"]["memory"], "256Mi");
        assert!(value["resources"]["limits"]["cpu"].is_null());
        for absent in ["ports", "readinessProbe", "livenessProbe", "lifecycle"] {
            assert!(value[absent].is_null(), "{absent}");
        }
    }

    #[test]
    fn the_app_container_is_chosen_as_job_mode_chooses_it() {
        let gate = build(
            &deployment(),
            Some("metrics"),
            "x:1",
            &argv(),
            Entrypoint::Replace,
        )
        .unwrap();
        assert!(gate.env.is_none(), "the exporter has no env");
        assert!(
            build(
                &deployment(),
                Some("nope"),
                "x:1",
                &argv(),
                Entrypoint::Replace
            )
            .unwrap_err()
            .contains("no container \"nope\"")
        );
    }

    #[test]
    fn the_patch_adds_the_gate_by_name() {
        let gate = build(&deployment(), None, "shop:2", &argv(), Entrypoint::Replace).unwrap();
        let p = patch(&gate);
        assert_eq!(
            p["spec"]["template"]["spec"]["initContainers"][0]["name"],
            NAME
        );
        assert!(
            gates(&deployment()).is_empty(),
            "a native sidecar is no gate"
        );
        let mut d = deployment();
        pod_spec(&mut d)
            .init_containers
            .as_mut()
            .unwrap()
            .push(gate);
        assert_eq!(gates(&d)[0].name, NAME);
    }

    /// `keep`: the gate sets only `args`, so it runs under the image's ENTRYPOINT, or under
    /// the app container's own `command` (a wrapper), as the app does; still found as a gate.
    #[test]
    fn keep_runs_the_gate_under_the_apps_entrypoint() {
        let mut d = deployment();
        let gate = build(&d, None, "shop:2", &argv(), Entrypoint::Keep).unwrap();
        let value = serde_json::to_value(&gate).unwrap();
        assert!(value["command"].is_null(), "the image's ENTRYPOINT stays");
        assert_eq!(value["args"], json!(["/app/bin/shop", "eval", "code"]));
        assert!(is_gate(&gate));
        let web = &mut pod_spec(&mut d).containers[1];
        web.command = Some(vec!["/entrypoint.sh".into()]);
        web.args = Some(vec!["/app/bin/shop".into(), "start".into()]);
        let gate = build(&d, None, "shop:2", &argv(), Entrypoint::Keep).unwrap();
        let value = serde_json::to_value(&gate).unwrap();
        assert_eq!(value["command"], json!(["/entrypoint.sh"]));
        assert_eq!(value["args"], json!(["/app/bin/shop", "eval", "code"]));
        let mut renamed = gate.clone();
        renamed.name = "schema-wait".into();
        renamed.args = Some(crate::ecto_snippet::tests::shop(&[], &[]).argv(
            "/app/bin/shop",
            Mode::Eval,
            Operation::Wait(Duration::from_secs(600)),
        ));
        assert!(is_gate(&renamed), "found by the snippet in its args");
    }

    /// The patch removes what the other choice set: switching `--entrypoint` in either
    /// direction leaves a gate with a `command` or `args`, never both.
    #[test]
    fn the_patch_removes_the_command_or_args_of_the_other_choice() {
        let entry = |e| {
            let gate = build(&deployment(), None, "shop:2", &argv(), e).unwrap();
            patch(&gate)["spec"]["template"]["spec"]["initContainers"][0].clone()
        };
        let replace = entry(Entrypoint::Replace);
        assert!(
            replace["args"].is_null() && replace.get("args").is_some(),
            "{replace}"
        );
        assert_eq!(replace["command"][0], "/app/bin/shop");
        let keep = entry(Entrypoint::Keep);
        assert!(
            keep.get("command").is_some_and(serde_json::Value::is_null),
            "{keep}"
        );
        assert_eq!(keep["args"][0], "/app/bin/shop");
    }

    #[test]
    fn a_renamed_gate_is_found_by_what_it_runs() {
        let snippet = crate::ecto_snippet::tests::shop(&[], &[]).argv(
            "/app/bin/shop",
            Mode::Eval,
            Operation::Wait(Duration::from_secs(600)),
        );
        let mut renamed =
            build(&deployment(), None, "shop:2", &snippet, Entrypoint::Replace).unwrap();
        renamed.name = "schema-wait".into();
        let cli: Container = serde_json::from_value(json!({
            "name": "wait-for-schema", "image": "kmigrate:0.1",
            "command": ["/usr/local/bin/kmigrate"], "args": ["wait", "--deadline", "10m"]
        }))
        .unwrap();
        let fetcher: Container = serde_json::from_value(json!({
            "name": "secrets", "image": "vault:1", "command": ["fetch", "--wait"]
        }))
        .unwrap();
        for (c, gate) in [(&renamed, true), (&cli, true), (&fetcher, false)] {
            assert_eq!(is_gate(c), gate, "{}", c.name);
        }
    }

    #[test]
    fn a_gate_on_another_image_than_the_app_is_named() {
        let mut d = deployment();
        let gate = build(&d, None, "shop:1", &argv(), Entrypoint::Replace).unwrap();
        pod_spec(&mut d).init_containers = Some(vec![gate]);
        assert_eq!(image_mismatch(&d, None), None, "both run shop:1");
        pod_spec(&mut d).init_containers.as_mut().unwrap()[0].image = Some("shop:0".into());
        let (what, fix) = image_mismatch(&d, None).unwrap();
        assert!(
            what.contains("runs image shop:0, but its container web runs shop:1"),
            "{what}"
        );
        assert!(fix.contains("kubectl set image deployment/shop web=IMAGE kmigrate-gate=IMAGE"));
    }
}
