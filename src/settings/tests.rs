//! Settings from flags and config files.

use super::*;
use clap::Parser;

use crate::config;

fn settings(args: &[&str], config: Option<&str>) -> Result<Settings> {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = config {
        std::fs::write(dir.path().join(config::FILE_NAME), text).unwrap();
    }
    let mut argv = vec!["kmigrate"];
    argv.extend_from_slice(args);
    Settings::new(
        &Cli::try_parse_from(argv).unwrap(),
        dir.path(),
        &mut config::Source::default(),
    )
}

fn code(r: Result<Settings>) -> u8 {
    crate::error::exit_code_of(&r.expect_err("expected an error"))
}

#[test]
fn flags_override_env_which_overrides_defaults() {
    let cfg = "selector = \"app=a\"\nnamespace = \"n0\"\nrelease = \"/srv/bin/shop\"\n\
               [env.s]\nnamespace = \"n1\"\ncontainer = \"web\"\n";
    let s = settings(&["-e", "s", "migrate"], Some(cfg)).unwrap();
    assert_eq!(s.namespace.as_deref(), Some("n1"));
    assert_eq!(s.pods.container.as_deref(), Some("web"));
    let ecto = s.ecto.unwrap();
    assert_eq!(ecto.release, "/srv/bin/shop");
    assert_eq!(ecto.snippet.app.as_str(), "shop");
    let s = settings(&["-e", "s", "-n", "n2", "-c", "app", "migrate"], Some(cfg)).unwrap();
    assert_eq!(
        (s.namespace.as_deref(), s.pods.container.as_deref()),
        (Some("n2"), Some("app"))
    );
}

#[test]
fn default_release_path_comes_from_app() {
    let s = settings(&["-l", "app=x", "--app", "my_app", "status"], None).unwrap();
    assert_eq!(s.ecto.unwrap().release, "/app/bin/my_app");
}

#[test]
fn invalid_values_are_usage_errors_before_any_network() {
    let usage = crate::error::code::USAGE;
    assert_eq!(
        code(settings(
            &["-l", "app=x", "--app", "My-App", "migrate"],
            None
        )),
        usage
    );
    assert_eq!(
        code(settings(
            &["-l", "app=x", "--app", "a", "--repo", "repo;", "migrate"],
            None
        )),
        usage
    );
    assert_eq!(
        code(settings(
            &["-l", "app in (x", "--app", "a", "migrate"],
            None
        )),
        usage
    );
    assert_eq!(
        code(settings(&["-l", "app=x", "-n", "Bad_NS", "pods"], None)),
        usage
    );
    assert_eq!(
        code(settings(
            &["-l", "app=x", "--timeout", "soon", "pods"],
            None
        )),
        usage
    );
    assert_eq!(code(settings(&["pods"], None)), usage);
    assert_eq!(code(settings(&["-l", "app=x", "migrate"], None)), usage);
    assert_eq!(code(settings(&["-e", "prod", "pods"], None)), usage);
    assert_eq!(
        code(settings(&["-e", "prd", "pods"], Some("[env.prod]\n"))),
        usage
    );
    assert_eq!(code(settings(&["pods"], Some("selector = 12\n"))), usage);
}

#[test]
fn custom_command_needs_no_app() {
    let s = settings(
        &["-l", "app=x", "migrate"],
        Some("migrate_command = [\"/app/bin/migrate\"]\n"),
    )
    .unwrap();
    assert!(s.ecto.is_none());
    let Action::Migrate(change) = s.action else {
        panic!("not migrate")
    };
    assert_eq!(change.argv, ["/app/bin/migrate"]);
    assert!(change.custom);
}

#[test]
fn protection_rules() {
    let at = |context: &'static str, namespace: &'static str| Place {
        context: Some(context),
        namespace: Some(namespace),
        ..Place::default()
    };
    let s = settings(&["-l", "app=x", "pods"], None).unwrap();
    assert!(s.protection(&at("dev", "shop-prod")).is_some());
    assert!(
        s.protection(&at("prod", "shop"))
            .unwrap()
            .contains("context")
    );
    assert!(s.protection(&at("prod-eu", "shop")).is_some());
    assert!(s.protection(&at("kind-dev", "shop-staging")).is_none());
    assert!(s.protection(&at("dev", "production")).is_some());
    let s = settings(
        &["-l", "app=x", "pods"],
        Some("protected_patterns = [\"live\"]\n"),
    )
    .unwrap();
    assert!(
        s.protection(&at("dev", "prod")).is_some(),
        "a config adds patterns; it does not drop the defaults"
    );
    assert!(s.protection(&at("dev", "live")).is_some());
    let s = settings(
        &["-l", "app=x", "-e", "p", "pods"],
        Some("[env.p]\nprotected = true\n"),
    )
    .unwrap();
    assert!(
        s.protection(&at("dev", "dev"))
            .unwrap()
            .contains("environment p")
    );
    // Known before connecting: the namespace flag alone can say so.
    let s = settings(&["-l", "app=x", "-n", "shop-prod", "pods"], None).unwrap();
    assert!(s.protection_before_connecting(None).is_some());
    let s = settings(&["-l", "app=x", "-n", "shop", "pods"], None).unwrap();
    assert!(s.protection_before_connecting(None).is_none());
}

#[test]
fn lock_names() {
    let s = settings(&["-l", "app=x", "--app", "my_app", "migrate"], None).unwrap();
    assert_eq!(s.lock, LockMode::BestEffort);
    assert_eq!(s.lock_name.as_deref(), Some("kmigrate-my-app"));
    let custom = "migrate_command = [\"m\"]\nlock = \"required\"\n";
    let s = settings(&["-l", "app=x", "migrate"], Some(custom)).unwrap();
    assert_eq!(s.lock, LockMode::Required);
    // A custom command's lock is the app's, whatever spelling finds the pod; without the
    // app, it is named once the pod (and so its workload) is known, never after the text.
    for find in [
        &["-l", "app=shop"][..],
        &["-l", "app=shop,tier=web"],
        &["--pod", "shop-7d9f8-x2k4q"],
    ] {
        let args: Vec<&str> = find.iter().copied().chain(["migrate"]).collect();
        assert_eq!(settings(&args, Some(custom)).unwrap().lock_name, None);
        let with_app: Vec<&str> = args.iter().copied().chain(["--app", "shop"]).collect();
        let s = settings(&with_app, Some(custom)).unwrap();
        assert_eq!(s.lock_name.as_deref(), Some("kmigrate-shop"));
    }
    assert!(settings(&["-l", "app=x", "pods"], Some("lock = \"maybe\"\n")).is_err());
}

#[test]
fn start_grace_from_flag_env_or_default() {
    let base = ["-l", "app=x", "--app", "a", "migrate", "--image", "a:2"];
    let grace = |args: &[&str], cfg: Option<&str>| {
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        settings(&all, cfg).map(|s| s.job.unwrap().start_grace)
    };
    assert_eq!(grace(&[], None).unwrap(), crate::job::START_GRACE);
    let cfg = "start_grace = \"5m\"\n[env.s]\nstart_grace = \"30s\"\n";
    assert_eq!(grace(&[], Some(cfg)).unwrap(), Duration::from_secs(300));
    assert_eq!(
        grace(&["-e", "s"], Some(cfg)).unwrap(),
        Duration::from_secs(30)
    );
    assert_eq!(
        grace(&["-e", "s", "--start-grace", "90s"], Some(cfg)).unwrap(),
        Duration::from_secs(90)
    );
    let bad = grace(&["--start-grace", "soon"], None).expect_err("a usage error");
    assert_eq!(crate::error::exit_code_of(&bad), crate::error::code::USAGE);
}

/// Job mode and the gate replace the entrypoint unless the flag or the config (per
/// environment too) says `keep`; anything else is a usage error.
#[test]
fn entrypoint_from_flag_env_or_default() {
    use crate::job::Entrypoint;
    let cfg = "entrypoint = \"keep\"\n[env.s]\nentrypoint = \"replace\"\n";
    let job = |args: &[&str], cfg: Option<&str>| {
        let base = ["-l", "app=x", "--app", "a", "migrate", "--image", "a:2"];
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        settings(&all, cfg).map(|s| s.job.unwrap().entrypoint)
    };
    assert_eq!(job(&[], None).unwrap(), Entrypoint::Replace);
    assert_eq!(job(&[], Some(cfg)).unwrap(), Entrypoint::Keep);
    assert_eq!(job(&["-e", "s"], Some(cfg)).unwrap(), Entrypoint::Replace);
    let keep = ["-e", "s", "--entrypoint", "keep"];
    assert_eq!(job(&keep, Some(cfg)).unwrap(), Entrypoint::Keep);
    let gate = |args: &[&str], cfg: Option<&str>| {
        let base = ["-l", "app=x", "--app", "a", "gate"];
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        match settings(&all, cfg).unwrap().action {
            Action::Gate(g) => g.entrypoint,
            other => panic!("not gate: {other:?}"),
        }
    };
    assert_eq!(gate(&[], None), Entrypoint::Replace);
    assert_eq!(gate(&[], Some(cfg)), Entrypoint::Keep);
    assert_eq!(gate(&["--entrypoint", "keep"], None), Entrypoint::Keep);
    assert!(settings(&["-l", "app=x", "pods"], Some("entrypoint = \"wrap\"\n")).is_err());
}

#[test]
fn an_oversized_config_file_is_refused_not_read_whole() {
    let mut cfg = "selector = \"app=x\"\n".to_owned();
    cfg.push_str(&"# a comment line that pads the file\n".repeat(40_000));
    assert!(cfg.len() > 1 << 20);
    let err = settings(&["pods"], Some(&cfg)).expect_err("too large");
    assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
    cfg.truncate(1 << 19);
    assert!(
        settings(&["pods"], Some(&cfg)).is_ok(),
        "half a MiB is fine"
    );
}

#[test]
fn unlock_needs_the_app_or_a_pod_to_name_the_lock() {
    let s = settings(&["unlock", "--app", "shop_"], None).unwrap();
    assert!(s.lock_name.is_some_and(|n| n.starts_with("kmigrate-shop-")));
    assert_eq!(
        settings(&["unlock", "-l", "app=shop"], None)
            .unwrap()
            .lock_name,
        None
    );
    assert_eq!(code(settings(&["unlock"], None)), crate::error::code::USAGE);
    // A release whose file name is no app name says nothing about the lock.
    let err = settings(&["unlock", "--release", "/app/bin/Shop"], None).expect_err("which lock");
    assert!(err.to_string().contains("which lock?"), "{err}");
}

#[test]
fn wait_and_gate_deadlines_and_where_the_deployment_comes_from() {
    let s = settings(&["-l", "app=x", "--app", "a", "wait"], None).unwrap();
    assert!(matches!(s.action, Action::Wait { deadline } if deadline == action::WAIT_DEADLINE));
    assert!(s.job.is_none() && s.ecto.is_some());
    let s = settings(
        &[
            "-l",
            "app=x",
            "--app",
            "a",
            "wait",
            "--deadline",
            "90s",
            "--image",
            "a:2",
        ],
        None,
    )
    .unwrap();
    assert!(matches!(s.action, Action::Wait { deadline } if deadline == Duration::from_secs(90)));
    assert_eq!(s.job.as_ref().unwrap().image.as_deref(), Some("a:2"));
    assert_eq!(
        s.recorded_argv(&["/app/bin/a".into(), "eval".into(), "code".into()]),
        "/app/bin/a eval code",
        "the wait snippet is ours: recorded in full"
    );
    // The gate needs no pod when the config names the Deployment.
    let s = settings(
        &["--app", "a", "gate", "--patch"],
        Some("deployment = \"shop\"\n"),
    )
    .unwrap();
    let Action::Gate(g) = s.action else {
        panic!("not gate")
    };
    assert_eq!(
        (g.deployment.as_deref(), g.deadline, g.patch, g.image),
        (Some("shop"), action::WAIT_DEADLINE, true, None)
    );
    assert_eq!(
        code(settings(&["--app", "a", "gate"], None)),
        crate::error::code::USAGE
    );
}

#[test]
fn tenants_come_from_flags_or_config_and_a_query_never_reaches_the_snippet_as_text() {
    let base = ["-l", "app=x", "--app", "shop"];
    fn args<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
        [base, more].concat()
    }
    let q = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_%' -- \"#{x}\"";
    let s = settings(&args(&base, &["--prefixes-from", q, "migrate"]), None).unwrap();
    let snippet = &s.ecto.as_ref().unwrap().snippet;
    assert!(snippet.prefixes.is_empty());
    assert_eq!(snippet.tenants.query.as_ref().unwrap().as_str(), q);
    let Action::Migrate(change) = &s.action else {
        panic!("migrate")
    };
    assert!(
        !change.argv[2].contains("pg_namespace"),
        "only hex: {}",
        change.argv[2]
    );
    // The config's query, per environment; a flag replaces it, and `prefixes` with it is
    // one too many.
    let cfg = "[env.prod]\nprefixes_from = \"SELECT 'tenant_a'\"\n";
    let s = settings(&args(&base, &["-e", "prod", "status"]), Some(cfg)).unwrap();
    assert!(s.ecto.unwrap().snippet.tenants.query.is_some());
    let s = settings(
        &args(&base, &["-e", "prod", "--prefix", "t1", "status"]),
        Some(cfg),
    )
    .unwrap();
    let snippet = s.ecto.unwrap().snippet;
    assert!(snippet.tenants.query.is_none());
    assert_eq!(snippet.prefixes.len(), 1);
    let both = "prefixes = [\"a\"]\nprefixes_from = \"SELECT 'a'\"\n";
    let err = settings(&args(&base, &["status"]), Some(both)).unwrap_err();
    assert!(
        err.to_string().contains("both prefixes and prefixes_from"),
        "{err}"
    );
    assert_eq!(
        code(settings(
            &args(&base, &["--prefixes-from", " ", "status"]),
            None
        )),
        2
    );
    // One flag or the other.
    assert!(
        Cli::try_parse_from([
            "kmigrate",
            "--prefix",
            "a",
            "--prefixes-from",
            "SELECT 1",
            "status"
        ])
        .is_err()
    );
}

#[test]
fn tenant_flags_are_checked_before_anything_runs() {
    let base = ["-l", "app=x", "--app", "shop", "migrate"];
    fn args<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
        [base, more].concat()
    }
    let two = ["--prefix", "tenant_a", "--prefix", "tenant_b"];
    let s = settings(
        &[
            &args(&base, &two)[..],
            &[
                "--canary",
                "tenant_b",
                "--canary",
                "tenant_b",
                "--concurrency",
                "3",
                "--continue-on-error",
            ],
        ]
        .concat(),
        None,
    )
    .unwrap();
    let t = &s.ecto.unwrap().snippet.tenants;
    assert_eq!(t.canaries.len(), 1, "a canary named twice runs once");
    assert_eq!(t.concurrency.get(), 3);
    assert!(t.keep_going);
    let usage = |more: &[&str]| {
        let r = settings(&args(&base, more), None);
        let err = r.expect_err("a usage error");
        assert_eq!(crate::error::exit_code_of(&err), crate::error::code::USAGE);
        err.to_string()
    };
    // A canary that is not a tenant of the run, or not a prefix at all.
    assert!(
        usage(&[&two[..], &["--canary", "tenant_c"]].concat()).contains("not one of the prefixes")
    );
    assert!(usage(&[&two[..], &["--canary", "Ten\"ant"]].concat()).contains("invalid prefix"));
    // With a query, the snippet checks canaries against what it returns.
    assert!(
        settings(
            &args(
                &base,
                &["--prefixes-from", "SELECT 1", "--canary", "tenant_c"]
            ),
            None
        )
        .is_ok()
    );
    // Fan-out flags need tenants; --continue-on-error alone is also the environments'.
    for flags in [&["--concurrency", "2"][..], &["--canary", "a"]] {
        assert!(usage(flags).contains("act on tenants"), "{flags:?}");
    }
    assert!(settings(&args(&base, &["--continue-on-error"]), None).is_ok());
    assert!(usage(&[&two[..], &["--concurrency", "17"]].concat()).contains("1 to 16"));
    // A custom command runs its own way.
    let cfg = "migrate_command = [\"/app/bin/migrate\"]\n";
    let err = settings(
        &args(&base, &[&two[..], &["--concurrency", "2"]].concat()),
        Some(cfg),
    )
    .unwrap_err();
    assert!(err.to_string().contains("runs its own way"), "{err}");
    // A rollback is one tenant: a query is refused.
    let err = settings(
        &[
            "-l",
            "app=x",
            "--app",
            "shop",
            "--prefixes-from",
            "SELECT 1",
            "rollback",
            "--step",
            "1",
        ],
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("one repo (and prefix) at a time"),
        "{err}"
    );
}

#[test]
fn rpc_refuses_tenants_at_once_on_the_live_apps_pool() {
    let base = [
        "-l", "app=x", "--app", "shop", "--prefix", "a", "--prefix", "b",
    ];
    let rpc = settings(
        &[
            &base[..],
            &["--mode", "rpc", "migrate", "--concurrency", "4"],
        ]
        .concat(),
        None,
    );
    let err = format!("{:#}", rpc.unwrap_err());
    assert!(err.contains("--concurrency 4 needs --mode eval"), "{err}");
    // One at a time in rpc, and at once in eval, are as before.
    settings(&[&base[..], &["--mode", "rpc", "migrate"]].concat(), None).unwrap();
    settings(
        &[&base[..], &["migrate", "--concurrency", "4"]].concat(),
        None,
    )
    .unwrap();
}

#[test]
fn rpc_is_refused_in_job_mode_where_no_app_node_runs() {
    let base = ["-l", "app=x", "--app", "shop"];
    for args in [
        &["--mode", "rpc", "migrate", "--image", "a:2"][..],
        &["--mode", "rpc", "plan", "--dry-run"],
        &["--mode", "rpc", "status", "--image", "a:2"],
    ] {
        let r = settings(&[&base[..], args].concat(), None);
        assert_eq!(code(settings(&[&base[..], args].concat(), None)), 2);
        let err = format!("{:#}", r.unwrap_err());
        assert!(
            err.contains("the Job's pod runs no app node to rpc into"),
            "{err}"
        );
    }
    // The config's job = true counts too, and --mode eval over the config's rpc runs.
    let cfg = "mode = \"rpc\"\njob = true\n";
    let err = format!(
        "{:#}",
        settings(&[&base[..], &["migrate"]].concat(), Some(cfg)).unwrap_err()
    );
    assert!(
        err.contains("the Job's pod runs no app node to rpc into"),
        "{err}"
    );
    settings(
        &[&base[..], &["--mode", "eval", "migrate"]].concat(),
        Some(cfg),
    )
    .unwrap();
    // rpc in a running pod, and doctor with both configured, are as before.
    settings(&[&base[..], &["--mode", "rpc", "migrate"]].concat(), None).unwrap();
    settings(&[&base[..], &["doctor"]].concat(), Some(cfg)).unwrap();
}

#[test]
fn only_the_runs_environment_switches_the_lock_or_the_marks_off() {
    let file = |text: &str| Config::parse(text).unwrap();
    for (text, key) in [
        ("lock = \"off\"\n", "KMIGRATE_LOCK=off"),
        (
            "protection_marks = false\n",
            "KMIGRATE_PROTECTION_MARKS=off",
        ),
    ] {
        let err = super::switches(&file(text), None, None).unwrap_err();
        assert!(
            err.contains("kmigrate.toml cannot turn") && err.contains(key),
            "{err}"
        );
        // Not even with the environment's word: the file must not say it.
        assert!(super::switches(&file(text), Some("off"), Some("off")).is_err());
    }
    let none = file("");
    assert_eq!(
        super::switches(&none, None, None),
        Ok((LockMode::BestEffort, false))
    );
    assert_eq!(
        super::switches(&none, Some("off"), Some("off")),
        Ok((LockMode::Off, true))
    );
    // The file may make the lock stricter, and the environment decides last.
    let strict = file("lock = \"required\"\nprotection_marks = true\n");
    assert_eq!(
        super::switches(&strict, None, None),
        Ok((LockMode::Required, false))
    );
    assert_eq!(
        super::switches(&strict, Some("best-effort"), None),
        Ok((LockMode::BestEffort, false))
    );
    assert!(
        super::switches(&none, Some("none"), None)
            .unwrap_err()
            .contains("required, best-effort or off")
    );
    assert!(
        super::switches(&none, None, Some("false"))
            .unwrap_err()
            .contains("on or off")
    );
}

#[test]
fn doctor_with_job_mode_configured_creates_nothing_and_is_not_confirmed() {
    let config = "selector = \"app=shop\"\napp = \"shop\"\njob = true\ndeployment = \"shop\"\n";
    let doctor = settings(&["doctor"], Some(config)).unwrap();
    assert!(doctor.job.is_some(), "doctor checks what Job mode needs");
    assert!(!doctor.confirms_when_protected());
    let status = settings(&["status"], Some(config)).unwrap();
    assert!(
        status.confirms_when_protected(),
        "a status Job is created in the namespace"
    );
}

/// A command that only reads ends at a default deadline (124) instead of hanging; a
/// `--timeout` (or the config's) replaces it; changes have none, and `wait`'s includes its
/// `--deadline`.
#[test]
fn reads_have_a_default_timeout_that_the_flag_replaces() {
    let timeout = |args: &[&str]| {
        let mut all = vec!["-l", "app=x", "--app", "shop"];
        all.extend_from_slice(args);
        settings(&all, None).unwrap().timeout
    };
    for read in [&["status"][..], &["plan"], &["pods"], &["doctor"]] {
        let (d, text) = timeout(read).expect("a default timeout");
        assert_eq!(d, action::READ_TIMEOUT, "{read:?}");
        assert_eq!(
            text, "15m (the default --timeout of a command that only reads)",
            "{read:?}"
        );
    }
    assert_eq!(
        timeout(&["wait", "--deadline", "5m"]).map(|t| t.0),
        Some(Duration::from_secs(20 * 60))
    );
    assert_eq!(
        timeout(&["--timeout", "90s", "status"]),
        Some((Duration::from_secs(90), "90s".to_owned()))
    );
    for change in [&["migrate"][..], &["exec", "--", "true"]] {
        assert_eq!(timeout(change), None, "{change:?}");
    }
}
