//! The schema gate's snippet: wait until the database holds every migration of this image.
//!
//! It reads the status as `status` does (the PRELUDE's `rows`: `migrations/3` with
//! `migration_lock: false, skip_table_creation: true`), so it never waits behind a running
//! migration's lock, never creates the table and never changes anything. It polls inside
//! one VM, with each repo started once, and prints a round of tagged lines when it starts,
//! about every 30 s, and when it ends: a `kmigrate:status` line for each migration still
//! missing (`down`) and each version the database has without a file here (`** FILE NOT
//! FOUND **`, the database is ahead: this does not block), then the round's `kmigrate:wait`
//! line. It exits 0 once nothing is missing, and with [`crate::error::code::PENDING`] at
//! the deadline, so an init container running it fails there too.

use std::time::Duration;

/// How often the database is read.
pub const POLL: Duration = Duration::from_secs(2);

/// How often a round is printed while waiting.
pub const ROUND: Duration = Duration::from_secs(30);

/// Nest `with_repo` over every repo (each started once, for the whole wait), then poll
/// with `rows`; `gap` is what is missing or ahead, `say` prints a round.
const WAIT: &str = r#"nest = fn nest, rs, f -> case rs do [] -> f.(); [r | rest] -> {:ok, x, _} = Ecto.Migrator.with_repo(r, fn _ -> nest.(nest, rest, f) end); x end end; gap = fn -> for p <- pfxs, repo <- repos, {s, v, n} <- rows.(repo, p), s == :down or n == "** FILE NOT FOUND **", do: {repo, p, s, v, n} end; say = fn g, state, t -> for {repo, p, s, v, n} <- g, do: IO.puts("kmigrate:status\t" <> tag.(repo, p) <> "\t#{s}\t#{v}\t#{n}"); IO.puts("kmigrate:wait\t#{state}\t#{div(t, 1000)}") end; t0 = System.monotonic_time(:millisecond); poll = fn poll, said -> g = gap.(); t = System.monotonic_time(:millisecond) - t0; cond do not Enum.any?(g, &(elem(&1, 2) == :down)) -> say.(g, "ready", t); :ready; t >= @DEADLINE@ -> say.(g, "deadline", t); :deadline; true -> said = if(said == nil or t - said >= @ROUND@, do: (say.(g, "waiting", t); t), else: said); Process.sleep(min(@POLL@, @DEADLINE@ - t)); poll.(poll, said) end end; if nest.(nest, repos, fn -> poll.(poll, nil) end) == :deadline, do: exit({:shutdown, @PENDING@})"#;

/// The body of the wait snippet for this deadline.
pub fn body(deadline: Duration) -> String {
    WAIT.replace("@DEADLINE@", &deadline.as_millis().to_string())
        .replace("@ROUND@", &ROUND.as_millis().to_string())
        .replace("@POLL@", &POLL.as_millis().to_string())
        .replace("@PENDING@", &crate::error::code::PENDING.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecto_snippet::Operation;
    use crate::ecto_snippet::tests::shop as snippet;

    #[test]
    fn wait_only_reads_without_the_lock_or_creating_the_table() {
        let code = snippet(&[], &[]).elixir(Operation::Wait(Duration::from_secs(90)));
        assert!(
            code.starts_with("app = :shop; Application.load(app);"),
            "{code}"
        );
        assert!(code.contains("[migration_lock: false, skip_table_creation: true]"));
        assert!(code.contains("{s, v, n} <- rows.(repo, p)"));
        for writes in [
            "Ecto.Migrator.run(",
            "Ecto.Migrator.up(",
            "Ecto.Migrator.down(",
            "LOCK TABLE",
            "pg_advisory_lock",
            "INSERT",
            "DELETE",
            "CREATE",
        ] {
            assert!(!code.contains(writes), "{writes}");
        }
        assert!(!code.contains('@'), "every placeholder is filled: {code}");
    }

    #[test]
    fn wait_polls_in_one_run_and_ends_with_the_pending_code() {
        let code = snippet(&[], &[]).elixir(Operation::Wait(Duration::from_millis(2500)));
        assert!(code.contains("t >= 2500 ->"), "{code}");
        assert!(code.contains("Process.sleep(min(2000, 2500 - t)); poll.(poll, said)"));
        assert!(code.contains("t - said >= 30000"));
        assert!(code.contains("s == :down or n == \"** FILE NOT FOUND **\""));
        assert!(code.contains("IO.puts(\"kmigrate:wait\\t#{state}\\t#{div(t, 1000)}\")"));
        assert!(
            code.ends_with("== :deadline, do: exit({:shutdown, 10})"),
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
        let code = snippet(&["Shop.Repo", "Shop.Audit"], &["tenant_a", "tenant_b"])
            .elixir(Operation::Wait(Duration::from_secs(1)));
        assert!(code.contains("repos = [Shop.Repo, Shop.Audit];"));
        assert!(code.contains("pfxs = [\"tenant_a\", \"tenant_b\"];"));
        assert!(code.contains("for p <- pfxs, repo <- repos, {s, v, n} <- rows.(repo, p)"));
        assert!(code.contains("nest.(nest, repos, fn -> poll.(poll, nil) end)"));
    }
}
