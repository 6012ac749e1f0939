//! Job mode: run the migrate command from a NEW image before the rollout, in a Job built
//! from the app's Deployment, and follow it.

mod api;
mod pod_state;
mod spec;
mod yaml;

pub use api::{RunInfo, UNSCHEDULABLE_GRACE, create, find_deployment, follow, runs};
pub use spec::{JobOptions, build, run_name};
pub use yaml::to_yaml;

/// Label on everything kmigrate creates.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kmigrate");
/// Label naming the run (the Job's name).
pub const RUN_LABEL: &str = "kmigrate.io/run";
