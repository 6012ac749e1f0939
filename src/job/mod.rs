//! Job mode: run the migrate command from a NEW image before the rollout, in a Job built
//! from the app's Deployment, and follow it.

mod api;
mod log;
mod pod_state;
mod spec;
mod yaml;

use std::time::Duration;

pub use api::{
    CreateFailure, DELETE_WITHIN, Followed, RunInfo, create, delete, exists, find_deployment,
    follow, runs,
};
pub use pod_state::human;
pub use spec::{JobOptions, app_container, build, keep_refused, replaced_wrapper, run_name, start};
pub use yaml::to_yaml;

/// A Deployment for tests of what is built from one.
#[cfg(test)]
pub(crate) use spec::tests::deployment;

/// How long a pod that Kubernetes keeps retrying (image pull, config error, unschedulable)
/// is given to start, unless `--start-grace` says otherwise.
pub const START_GRACE: Duration = Duration::from_secs(120);

/// Label on everything kmigrate creates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kmigrate");
/// Label naming the run (the Job's name).
pub const RUN_LABEL: &str = "kmigrate.io/run";

/// How a container kmigrate builds (the Job's, the schema gate's) starts the release command.
/// Kubernetes cannot show an image's ENTRYPOINT, and nothing shows whether it runs its
/// arguments, so the user says (docs/guide/job-mode.md, "The image's ENTRYPOINT").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entrypoint {
    /// The release command is the container's `command`: the image's ENTRYPOINT (and the
    /// Deployment container's own `command`) do not run
    #[default]
    Replace,
    /// The release command is the container's `args` alone: it runs under the entrypoint the
    /// app runs under, which must exec its arguments (`exec "$@"`, vault-env, `doppler run --`)
    Keep,
}
