//! `kmigrate console`: the release's remote IEx shell (`bin/APP remote`) on the running node
//! of the chosen pod, with a terminal, as Gigalixir's `ps:remote_console` and Fly's console
//! offer: the first thing opened after a failed deploy. It joins the node that runs; leaving
//! it leaves that node running.

use anyhow::Result;

use super::{Ctx, find_target};
use crate::target::PodTarget;

/// Run `console`.
pub async fn console(ctx: &mut Ctx, argv: &[String]) -> Result<()> {
    let (_, t) = find_target(ctx).await?;
    open(ctx, &t, argv).await
}

/// Run as `exec -it` does: where protected, the banner and the typed confirmation first (a
/// console can change anything); the audit Event is recorded when the run ends.
async fn open(ctx: &mut Ctx, t: &PodTarget, argv: &[String]) -> Result<()> {
    ctx.ui.note(&format!(
        "Remote console on the running node of pod {}; leaving it (Ctrl-G then q, or Ctrl-C twice) leaves the node running.",
        t.pod
    ));
    super::exec::exec_in(ctx, t, argv).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::error::code;
    use crate::remote_exec::fake::Reply;
    use crate::settings::Action;

    fn argv(h: &Harness) -> Vec<String> {
        match &h.ctx.settings.action {
            Action::Console { argv } => argv.clone(),
            other => panic!("not a console: {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_console_is_the_release_remote_and_is_confirmed_where_protected() {
        let mut h = Harness::new(&["console"], vec![Reply::exit("iex>", 0)], false);
        let a = argv(&h);
        assert_eq!(a, ["/app/bin/shop", "remote"]);
        h.ctx.protection = Some("namespace \"shop-prod\" matches \"*-prod\"".into());
        let refused = open(&mut h.ctx, &pod(), &a).await;
        assert_eq!(h.conclude(&refused).exit_code, code::REFUSED);
        assert!(h.calls().is_empty(), "nothing ran before the confirmation");
        h.answer(&["shop-prod"]);
        h.ctx.ui.can_prompt = true;
        let r = open(&mut h.ctx, &pod(), &a).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        assert_eq!(h.calls(), [a]);
        let shown = h.stderr();
        assert!(shown.contains("Protected environment"), "{shown}");
        assert!(shown.contains("leaves the node running"), "{shown}");
        assert!(h.ctx.report.protected);
        assert!(
            h.ctx.settings.action.changes_database(),
            "recorded by an audit Event, as exec"
        );
    }
}
