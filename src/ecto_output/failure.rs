//! Remote failures kmigrate understands, said in its own words: the raw text of each (an
//! Elixir stack trace, the release script's RPC error) is shown only with `-v`.

/// The longest part of a remote message quoted in kmigrate's line.
const QUOTED: usize = 200;

/// What kmigrate says of a remote line that starts a failure it understands: `Some("")`
/// hides it with nothing to add (a refusal of the snippet, which kmigrate states itself),
/// `Some(line)` hides it and says `line` instead, `None` leaves it alone.
pub fn explain(line: &str) -> Option<String> {
    let me = crate::program_name::on_target();
    if line.starts_with("** (RuntimeError) kmigrate: nothing was run") {
        return Some(String::new());
    }
    if let Some(rest) = line.strip_prefix("** (DBConnection.ConnectionError)") {
        return Some(format!(
            "the app could not connect to its database ({}); check the repo's database settings in the pod (a Job or the \
             schema gate gets them from the container's env, not from the image's ENTRYPOINT unless --entrypoint keep), \
             and `{me} doctor`",
            quoted(rest.trim())
        ));
    }
    if let Some(name) = missing_variable(line) {
        return Some(format!(
            "the release's config/runtime.exs needs the environment variable {name}, which the command's environment \
             lacks: it gets the container's `env` and `envFrom`, not what the image's ENTRYPOINT exports (an entrypoint \
             script, vault-env, doppler). Set {name} in the Deployment's env (from a Secret), or, in Job mode and the \
             schema gate, run under that ENTRYPOINT with --entrypoint keep"
        ));
    }
    // Elixir 1.14 says `--rpc-eval : RPC failed with reason :nodedown`; 1.15 and later,
    // when the caller is not distributed, `Cannot run --rpc-eval if the node is not alive`.
    if line.contains("--rpc-eval")
        && (line.contains(":nodedown") || line.contains("node is not alive"))
    {
        return Some(format!(
            "--mode rpc found no running node of the release in the pod (:nodedown); use --mode eval, which starts one for the command, or check the release runs: `{me} doctor`"
        ));
    }
    None
}

/// The variable a release's runtime config missed: `System.fetch_env!/1`'s error, or the
/// `raise "environment variable DATABASE_URL is missing."` of Phoenix's generated
/// config/runtime.exs (both are raised while the release boots, before the snippet runs).
/// Only a name is taken: the rest of the line is never repeated.
fn missing_variable(line: &str) -> Option<&str> {
    let name = if let Some(rest) =
        line.strip_prefix("** (System.EnvError) could not fetch environment variable \"")
    {
        rest.split_once('"')?.0
    } else {
        let rest = line.strip_prefix("** (RuntimeError) environment variable ")?;
        rest.split_once(" is missing")?.0
    };
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(name)
}

fn quoted(s: &str) -> String {
    if s.chars().count() <= QUOTED {
        return s.to_owned();
    }
    let cut: String = s.chars().take(QUOTED).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_cannot_be_reached_names_the_fix() {
        let said = explain(
            "** (DBConnection.ConnectionError) connection not available and request was dropped from queue after 2000ms",
        )
        .unwrap();
        assert!(
            said.starts_with("the app could not connect to its database (connection not available"),
            "{said}"
        );
        assert!(said.contains("`kmigrate doctor`"), "{said}");
        assert!(said.contains("unless --entrypoint keep"), "{said}");
    }

    /// What a release says when its runtime.exs misses a variable (Elixir's own text, and
    /// Phoenix's generated config/runtime.exs) names the variable and both fixes.
    #[test]
    fn a_variable_runtime_exs_misses_is_named_with_the_fix() {
        for line in [
            "** (System.EnvError) could not fetch environment variable \"DATABASE_URL\" because it is not set",
            "** (RuntimeError) environment variable DATABASE_URL is missing.",
        ] {
            let said = explain(line).unwrap();
            assert!(
                said.starts_with(
                    "the release's config/runtime.exs needs the environment variable DATABASE_URL,"
                ),
                "{said}"
            );
            assert!(
                said.contains("--entrypoint keep") && said.contains("Deployment's env"),
                "{said}"
            );
        }
        assert_eq!(
            explain("** (RuntimeError) environment variable $(curl x) is missing."),
            None,
            "only a variable's name is repeated"
        );
        assert_eq!(explain("** (RuntimeError) something else"), None);
    }

    #[test]
    fn nodedown_points_to_eval_and_refusals_are_hidden_silently() {
        let said = explain("--rpc-eval : RPC failed with reason :nodedown").unwrap();
        assert!(said.contains("use --mode eval"), "{said}");
        assert!(explain("Cannot run --rpc-eval if the node is not alive").is_some());
        assert_eq!(
            explain("** (RuntimeError) kmigrate: nothing was run: version 1 is not a migration of Shop.Repo").as_deref(),
            Some("")
        );
        assert_eq!(
            explain("** (Postgrex.Error) ERROR 42P01 (undefined_table)"),
            None
        );
        assert_eq!(
            explain("    (stdlib 5.2) erl_eval.erl:750: :erl_eval.do_apply/7"),
            None
        );
    }
}
