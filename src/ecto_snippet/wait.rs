//! The schema gate's snippet: wait until the database holds every migration of this image.
//!
//! It reads the status as `status` does (the prelude's `status_rows`: `migrations/3` with
//! `migration_lock: false, skip_table_creation: true`), so it never waits behind a running
//! migration's lock, never creates the table and never changes anything. It polls inside
//! one VM, with each repo started once, and prints a round of tagged lines when it starts,
//! about every 30 s, and when it ends: a `kmigrate:status` line for each migration still
//! missing (`down`) and each version the database has without a file here (`** FILE NOT
//! FOUND **`, the database is ahead: this does not block), then the round's `kmigrate:wait`
//! line. It exits 0 once nothing is missing, and with [`crate::error::code::PENDING`] at
//! the deadline, so an init container running it fails there too.

use std::time::Duration;

use super::bindings::{Bindings, Literal};
use super::elixir;

/// How often the database is read.
pub const POLL: Duration = Duration::from_secs(2);

/// How often a round is printed while waiting.
pub const ROUND: Duration = Duration::from_secs(30);

/// The bindings and file of the wait for this deadline, after the prelude's.
pub(super) fn add(b: &mut Bindings, files: &mut Vec<&'static str>, deadline: Duration) {
    let ms = |d: Duration| Literal::int(d.as_millis());
    b.bind("deadline_ms", ms(deadline))
        .bind("round_ms", ms(ROUND))
        .bind("poll_ms", ms(POLL))
        .bind(
            "pending_exit_code",
            Literal::int(crate::error::code::PENDING),
        );
    files.push(elixir::WAIT);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::Operation;
    use crate::ecto_snippet::tests::{flat, shop as snippet, split};

    #[test]
    fn wait_only_reads_without_the_lock_or_creating_the_table() {
        let op = Operation::Wait(Duration::from_secs(90));
        let (bindings, body) = split(&snippet(&[], &[]), op);
        assert!(bindings.starts_with("app = :shop\n"), "{bindings}");
        assert!(body.starts_with("Application.load(app)\n"), "{body}");
        let code = flat(&body);
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("{state, version, name} <- status_rows.(repo, prefix)"));
        for writes in [
            "Ecto.Migrator.run(",
            "Ecto.Migrator.up(",
            "Ecto.Migrator.down(",
            "LOCK TABLE",
            "pg_advisory_lock(",
            "pg_try_advisory_lock",
            "INSERT",
            "DELETE",
            "CREATE",
        ] {
            assert!(!code.contains(writes), "{writes}");
        }
        assert!(
            !code.contains('@'),
            "nothing but bindings is inserted: {code}"
        );
    }

    #[test]
    fn wait_polls_in_one_run_and_ends_with_the_pending_code() {
        let op = Operation::Wait(Duration::from_millis(2500));
        let (bindings, body) = split(&snippet(&[], &[]), op);
        assert!(
            bindings.ends_with(
                "deadline_ms = 2500\nround_ms = 30000\npoll_ms = 2000\npending_exit_code = 10\n"
            ),
            "{bindings}"
        );
        let code = flat(&body);
        assert!(code.contains("elapsed >= deadline_ms ->"), "{code}");
        assert!(
            code.contains(
                "Process.sleep(min(poll_ms, deadline_ms - elapsed)) poll.(poll, said_at)"
            )
        );
        assert!(code.contains("elapsed - said_at >= round_ms"));
        assert!(code.contains(r#"state == :down or name == "** FILE NOT FOUND **""#));
        assert!(code.contains(r#"say.("kmigrate:wait", [state, div(elapsed, 1000)])"#));
        assert!(
            code.ends_with(
                "== :deadline do exit({:shutdown, pending_exit_code}) end say.(\"kmigrate:end\", [])"
            ),
            "{code}"
        );
        assert_eq!(
            code.matches("with_repo").count(),
            1,
            "each repo started once"
        );
    }

    #[test]
    fn wait_covers_every_repo_and_prefix() {
        let s = snippet(&["Shop.Repo", "Shop.Audit"], &["tenant_a", "tenant_b"]);
        let (bindings, body) = split(&s, Operation::Wait(Duration::from_secs(1)));
        assert!(bindings.contains("named_repos = [Shop.Repo, Shop.Audit]\n"));
        assert!(bindings.contains("prefixes = [\"tenant_a\", \"tenant_b\"]\n"));
        let code = flat(&body);
        assert!(code.contains(
            "for prefix <- prefixes, repo <- repos, {state, version, name} <- status_rows.(repo, prefix)"
        ));
        assert!(code.contains("in_repos.(in_repos, repos, fn -> poll.(poll, nil) end)"));
    }
}
