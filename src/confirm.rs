//! The plan shown before a protected environment is changed, and the typed confirmation.

use std::path::Path;

use anyhow::Result;

use crate::error::Error;
use crate::target::PodTarget;
use crate::ui::Ui;

/// The plan shown before changing a protected environment.
pub struct Plan<'a> {
    /// What is asked: [`PROTECTED`], or another heading.
    pub title: &'a str,
    /// The namespace the user must type.
    pub namespace: &'a str,
    /// Where it runs: (label, value) lines.
    pub facts: Vec<(&'static str, String)>,
    /// The remote command; none for actions that run nothing remotely.
    pub argv: &'a [String],
    /// Why the confirmation is asked (why the environment is protected).
    pub reason: &'a str,
    /// The migrations affected, when known.
    pub changes: Option<Changes>,
}

/// What a plan changes, shown last, right above the prompt: what a person decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// What the lines are (`pending migrations to apply`, `migrations to revert`).
    pub title: &'static str,
    /// One line per migration, with what the plan's rules found in it.
    pub lines: Vec<String>,
    /// What else to know before typing: the plan hash, versions left out and why.
    pub notes: Vec<String>,
}

impl Changes {
    /// Lines under a title, with nothing else to say.
    pub fn new(title: &'static str, lines: Vec<String>) -> Self {
        Self {
            title,
            lines,
            notes: Vec::new(),
        }
    }
}

/// A remote command longer than this is shown in full only with `-v`: the Ecto snippet
/// (thousands of characters) would push the context, namespace and pod off the screen.
const ARGV_SHOWN: usize = 160;

/// The heading of a plan for a protected environment.
pub const PROTECTED: &str = "Protected environment";
/// The heading of one plan for several environments; what is typed is their list.
pub const GROUP: &str = "Several environments";

/// The facts of an exec target, for a plan.
pub fn facts(t: &PodTarget, config: Option<&Path>) -> Vec<(&'static str, String)> {
    vec![
        ("context", t.context.clone()),
        ("namespace", t.namespace.clone()),
        ("pod", t.pod.clone()),
        ("container", t.container.clone()),
        config_fact(config),
    ]
}

/// The config file the settings came from, for a plan: a file that chose the context or
/// the command should be seen before anything changes.
pub fn config_fact(config: Option<&Path>) -> (&'static str, String) {
    let shown = config.map_or_else(|| "none".to_owned(), |p| p.display().to_string());
    ("config", shown)
}

/// Show the plan and ask for the namespace to be typed; refuse without a terminal unless `yes`.
/// The prompt blocks a thread of its own, so lock renewal, the deadline and signals go on.
pub async fn confirm(ui: &Ui, yes: bool, plan: &Plan<'_>) -> Result<()> {
    let mut text = format!("{} ({})\n", ui.bold(plan.title), plan.reason);
    for (label, value) in &plan.facts {
        text.push_str(&format!("  {:<10} {value}\n", format!("{label}:")));
    }
    if !plan.argv.is_empty() {
        text.push_str(&format!(
            "  {:<10} {}\n",
            "command:",
            command(ui, plan.argv)
        ));
    }
    if let Some(c) = &plan.changes {
        if c.lines.is_empty() {
            text.push_str(&format!("  {}: none\n", c.title));
        } else {
            text.push_str(&format!("  {}:\n", c.title));
            for l in &c.lines {
                text.push_str(&format!("    {l}\n"));
            }
        }
        for n in &c.notes {
            text.push_str(&format!("  {n}\n"));
        }
    }
    ui.note(text.trim_end());
    if yes {
        ui.note("Confirmed by --yes.");
        return Ok(());
    }
    let (what, subject) = if plan.title == GROUP {
        ("the environments", "environments")
    } else {
        ("the namespace name", "namespace")
    };
    if !ui.can_prompt {
        return Err(Error::Refused(format!(
            "{subject} {} is protected ({}) and there is no terminal to confirm on; re-run with --yes to proceed",
            plan.namespace, plan.reason
        ))
        .into());
    }
    let prompt = format!("Type {what} ({}) to continue", plan.namespace);
    typed(
        ui,
        prompt,
        plan.namespace.to_owned(),
        "confirmation did not match; nothing was run",
    )
    .await
}

/// The remote command as a plan shows it: whole when short or with `-v`, else its first
/// two words (the release and `eval`) and how long the rest is.
fn command(ui: &Ui, argv: &[String]) -> String {
    let whole = crate::text::shown_argv(argv);
    if ui.verbose || whole.chars().count() <= ARGV_SHOWN {
        return whole;
    }
    let head = crate::text::shown_argv(&argv[..argv.len().min(2)]);
    format!(
        "{head} with kmigrate's Ecto snippet ({} characters in all; -v shows it)",
        whole.chars().count()
    )
}

/// Ask for `expected` to be typed; anything else is refused with `mismatch`. The prompt
/// blocks a thread of its own, so lock renewal, the deadline and signals go on.
pub async fn typed(ui: &Ui, prompt: String, expected: String, mismatch: &str) -> Result<()> {
    let asker = ui.clone();
    let answer = tokio::task::spawn_blocking(move || asker.confirm_typed(&prompt, &expected))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::Refused(mismatch.to_owned()).into()),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(Error::Interrupted {
            signal: "SIGINT",
            running: false,
        }
        .into()),
        Err(e) => Err(Error::Refused(format!("could not read the confirmation: {e}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan<'a>(argv: &'a [String]) -> Plan<'a> {
        Plan {
            title: PROTECTED,
            namespace: "shop-prod",
            facts: vec![("pod", "web-1".to_owned())],
            argv,
            reason: "namespace \"shop-prod\" matches \"*-prod\"",
            changes: Some(Changes::new(
                "pending migrations to apply",
                vec!["1 a (R)".to_owned()],
            )),
        }
    }

    #[tokio::test]
    async fn typed_namespace_confirms_and_anything_else_refuses() {
        let argv = ["m".to_owned()];
        let (ui, captured) = Ui::memory(true, false);
        captured.lock().unwrap().answers.extend([
            Ok("shop-prod\n".to_owned()),
            Ok("shop".to_owned()),
            Err(std::io::ErrorKind::Interrupted.into()),
        ]);
        confirm(&ui, false, &plan(&argv)).await.unwrap();
        let refused = confirm(&ui, false, &plan(&argv)).await.unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&refused),
            crate::error::code::REFUSED
        );
        let interrupted = confirm(&ui, false, &plan(&argv)).await.unwrap_err();
        assert_eq!(
            crate::error::exit_code_of(&interrupted),
            crate::error::code::INTERRUPTED
        );
        let c = captured.lock().unwrap();
        assert_eq!(c.prompts.len(), 3);
        let shown = String::from_utf8_lossy(&c.stderr);
        assert!(
            shown.contains("pending migrations to apply:\n    1 a (R)"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn no_terminal_refuses_unless_yes() {
        let argv = ["m".to_owned()];
        let (ui, captured) = Ui::memory(false, false);
        let err = confirm(&ui, false, &plan(&argv)).await.unwrap_err();
        assert!(err.to_string().contains("--yes"), "{err}");
        confirm(&ui, true, &plan(&argv)).await.unwrap();
        let c = captured.lock().unwrap();
        assert!(c.prompts.is_empty());
        assert!(String::from_utf8_lossy(&c.stderr).contains("Confirmed by --yes."));
    }

    /// A person reading the plan for a while must not stop the runtime: the lock's
    /// renewer, the deadline and the signal watch run on the same thread.
    #[tokio::test]
    async fn the_runtime_keeps_running_while_the_prompt_waits() {
        let argv = ["m".to_owned()];
        let (ui, captured) = Ui::memory(true, false);
        {
            let mut c = captured.lock().unwrap();
            c.answer_delay = std::time::Duration::from_millis(400);
            c.answers.push_back(Ok("shop-prod".to_owned()));
        }
        let ticks = std::cell::Cell::new(0u32);
        let ticker = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                ticks.set(ticks.get() + 1);
            }
        };
        let plan = plan(&argv);
        tokio::select! {
            r = confirm(&ui, false, &plan) => r.unwrap(),
            () = ticker => unreachable!("the ticker never ends"),
        }
        assert!(
            ticks.get() >= 10,
            "the runtime was blocked: {} ticks in 400 ms",
            ticks.get()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// A kubeconfig's context name and a remote status line (repo, migration name) reach
        /// the plan; whatever control characters they hold, none reaches the terminal.
        #[test]
        fn kubeconfig_and_remote_status_cannot_drive_the_terminal(
            context in "[a-z]{1,6}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\u{9f}]{1,3}[a-z]{0,6}",
            name in "[a-z]{0,8}[\\x00-\\x08\\x0b-\\x1f\\x7f-\\u{9f}]{1,4}[a-z ]{0,8}",
            repo in "[A-Z][a-z]{0,4}[\\x01-\\x08\\x0b-\\x1f\\x7f-\\u{9f}]{0,2}",
        ) {
            let dir = tempfile::tempdir().unwrap();
            let cfg = dir.path().join("config");
            // A YAML double-quoted string with every control character escaped.
            let ctx_json = format!("\"{}\"", context.chars().map(|c| if c.is_control() {
                format!("\\u{:04x}", u32::from(c))
            } else {
                c.to_string()
            }).collect::<String>());
            std::fs::write(&cfg, format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: {ctx_json}\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n\
    users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: {ctx_json}\n  context:\n    cluster: c\n    user: u\n    namespace: shop\n"
            )).unwrap();
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let conn = rt.block_on(crate::connection::connect(&crate::connection::KubeArgs {
                kubeconfig: Some(cfg),
                context: None,
            })).unwrap();
            proptest::prop_assert_eq!(&conn.context, &context);
            let line = format!("kmigrate:status\t{repo}\t\tdown\t20240101\t{name}");
            let rows = match crate::ecto_output::parse_line(line.as_bytes()) {
                Some(crate::ecto_output::Event::Status(row)) => vec![row.plan_line()],
                _ => Vec::new(),
            };
            let argv = ["/app/bin/demo".to_owned(), name.clone()];
            let (ui, captured) = Ui::memory(false, false);
            let plan = Plan {
                title: PROTECTED,
                namespace: "shop",
                facts: vec![("context", conn.context.clone())],
                argv: &argv,
                reason: "test",
                changes: Some(Changes::new("pending migrations to apply", rows)),
            };
            rt.block_on(confirm(&ui, true, &plan)).unwrap();
            let shown = String::from_utf8(captured.lock().unwrap().stderr.clone()).unwrap();
            proptest::prop_assert!(
                !shown.chars().any(|c| c.is_control() && c != '\n'),
                "{shown:?}"
            );
        }
    }
}
