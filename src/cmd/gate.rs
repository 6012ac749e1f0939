//! `kmigrate gate`: print the init container that makes a Deployment's new pods wait for
//! their schema. It reads the Deployment and changes nothing.

use anyhow::Result;

use super::{Ctx, connect_namespace, job_run};
use crate::ecto_snippet::Mode;
use crate::ecto_snippet::Operation;
use crate::error::Error;
use crate::init_container::{self, NAME};
use crate::job::{Entrypoint, human, to_yaml};
use crate::settings::Gate;

/// Run `gate`: find the Deployment, build the init container (or the patch), print it.
pub async fn gate(ctx: &mut Ctx, req: &Gate) -> Result<()> {
    let ecto = ctx.ecto("gate")?;
    let (conn, ns) = connect_namespace(ctx).await?;
    let deploy = job_run::app_deployment(ctx, &conn, &ns, req.deployment.as_deref()).await?;
    let name = deploy.metadata.name.clone().unwrap_or_default();
    let container = ctx.settings.pods.container.clone();
    let image = job_run::image_of(&deploy, req.image.as_deref(), container.as_deref())?;
    // An init container runs before the app: there is no live node to `rpc` into.
    let argv = ecto
        .snippet
        .argv(&ecto.release, Mode::Eval, Operation::Wait(req.deadline));
    job_run::entrypoint_said(ctx, &deploy, req.entrypoint, "the gate")?;
    let gate = init_container::build(&deploy, container.as_deref(), &image, &argv, req.entrypoint)
        .map_err(Error::NoPod)?;
    let secrets = crate::secret_env::literal_secrets(&gate);
    if !secrets.is_empty() {
        return Err(Error::Refused(format!(
            "the app container's env {} holds a credential as a literal value, which the gate \
             would copy into what it prints; kmigrate does not print credentials. Move it into a \
             Secret and reference it from Deployment {name} (`valueFrom.secretKeyRef` or \
             `envFrom.secretRef`): the gate then references the same Secret",
            secrets.join(", "),
        ))
        .into());
    }
    let value = if req.patch {
        init_container::patch(&gate)
    } else {
        serde_json::to_value(&gate)?
    };
    if ctx.ui.json {
        ctx.report.gate = Some(value);
    } else if req.patch {
        ctx.ui.data(&to_yaml(&value));
    } else {
        ctx.ui
            .data(&to_yaml(&serde_json::Value::Array(vec![value])));
    }
    if ecto.mode == Mode::Rpc {
        ctx.ui.note(
            "note: the gate runs `eval`: before the app starts there is no live node to `rpc` into.",
        );
    }
    for old in init_container::gates(&deploy) {
        ctx.ui.note(&format!(
            "note: Deployment {name} already has a schema gate, init container {}: put this one in its place.",
            old.name
        ));
    }
    let app = crate::job::app_container(&deploy, container.as_deref())
        .map(|c| c.name.clone())
        .map_err(Error::NoPod)?;
    let how = if req.patch {
        format!("Apply it with `kubectl -n {ns} patch deployment {name} --patch-file FILE`.")
    } else {
        format!("Paste it under spec.template.spec.initContainers of Deployment {name}.")
    };
    ctx.ui.note(&format!(
        "{how}\nNew pods then start only once the database holds every migration of {image}; \
         each run of the gate waits up to {}, then exits 10 and the kubelet runs it again.\n\
         Give the gate the new image in every rollout, with the app: \
         `kubectl set image deployment/{name} {app}=IMAGE {NAME}=IMAGE`.{}",
        human(req.deadline),
        match req.entrypoint {
            Entrypoint::Replace => "\nIts `command` replaces the image's ENTRYPOINT: where that exports the \
                database settings (an entrypoint script, vault-env, doppler), use --entrypoint keep.",
            Entrypoint::Keep => "\nIt runs under the app's entrypoint, which must exec its arguments.",
        }
    ));
    Ok(())
}
