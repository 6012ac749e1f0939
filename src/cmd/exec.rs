//! `kmigrate exec -- CMD...`: any command in the chosen pod, streamed, with its exit code.

use anyhow::Result;

use super::{Ctx, find_target};
use crate::output::Purpose;
use crate::target::PodTarget;

/// Run `exec`.
pub async fn exec(ctx: &mut Ctx, argv: &[String]) -> Result<()> {
    let (_, t) = find_target(ctx).await?;
    exec_in(ctx, &t, argv).await
}

/// Run `argv` in the pod `t`, confirmed first where protected (`exec`, `console`).
pub(super) async fn exec_in(ctx: &mut Ctx, t: &PodTarget, argv: &[String]) -> Result<()> {
    if let Some(reason) = ctx.protection.clone() {
        ctx.report.protected = true;
        ctx.confirm_in_pod(t, argv, &reason, None).await?;
    }
    let mut out = ctx.ui.streamer(Purpose::Raw);
    ctx.exec(t, argv, &mut out).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testing::{Harness, pod};
    use crate::remote_exec::fake::Reply;

    #[tokio::test]
    async fn output_passes_byte_for_byte_and_the_code_through() {
        let argv = vec!["sh".to_owned(), "-c".to_owned(), "exit 3".to_owned()];
        let mut h = Harness::new(
            &["exec", "--", "true"],
            vec![Reply::exit("kmigrate:ran\tx\n\u{1b}[1mraw", 3)],
            false,
        );
        let r = exec_in(&mut h.ctx, &pod(), &argv).await;
        assert_eq!(h.conclude(&r).exit_code, 3);
        assert_eq!(h.stdout(), "kmigrate:ran\tx\n\u{1b}[1mraw");
        assert_eq!(h.ctx.report.argv.as_deref(), Some(&argv[..]));
    }

    #[tokio::test]
    async fn protected_exec_with_yes_runs_and_says_so() {
        let argv = vec!["true".to_owned()];
        let mut h = Harness::new(
            &["--yes", "exec", "--", "true"],
            vec![Reply::exit("", 0)],
            false,
        );
        h.ctx.protection = Some("context matches".into());
        h.ctx.settings.config = Some("/src/shop/kmigrate.toml".into());
        let r = exec_in(&mut h.ctx, &pod(), &argv).await;
        assert_eq!(h.conclude(&r).exit_code, 0);
        let shown = h.stderr();
        assert!(shown.contains("Confirmed by --yes."));
        assert!(shown.contains("command:   true"), "{shown}");
        assert!(
            shown.contains("config:    /src/shop/kmigrate.toml\n"),
            "the plan says which config chose this: {shown}"
        );
    }
}
