//! kmigrate: run Ecto migrations inside a running Kubernetes pod, found by label.

pub(crate) mod access;
mod app;
pub(crate) mod audit;
pub(crate) mod cli;
pub(crate) mod cmd;
pub(crate) mod config;
pub(crate) mod confirm;
pub(crate) mod connection;
pub mod doctor;
pub mod ecto_output;
pub(crate) mod ecto_snippet;
pub mod error;
pub(crate) mod group;
pub(crate) mod headroom;
pub(crate) mod init_container;
pub(crate) mod job;
pub(crate) mod lock;
pub(crate) mod logging;
pub mod migration_plan;
pub(crate) mod output;
pub(crate) mod plugin_completion;
pub(crate) mod pod_select;
pub(crate) mod program_name;
pub(crate) mod protection_mark;
pub mod protocol;
pub(crate) mod remote_exec;
pub mod report;
pub(crate) mod selector;
pub(crate) mod settings;
pub(crate) mod target;
pub(crate) mod ui;

pub use app::run;
pub use cli::command;
