//! End-to-end tests against the local control plane (`scripts/cluster up`): a real
//! kube-apiserver with etcd and RBAC, KWOK running exec'd commands as local processes,
//! the fixture release's real Elixir VM, and a real PostgreSQL.
//!
//! Built only with `--features e2e` (`scripts/test` turns it on); without a running
//! cluster every test fails, naming the command that starts it. The tests on the real
//! node (`real_node`, `rollout`, `in_cluster`) need `--features real-node` and `scripts/cluster up --real-node`
//! (`scripts/test --real-node` does both); without that node they fail the same way.
//! The walk of the demo (`demo`) needs `--features demo` and a run of `scripts/demo`.
//! The checks of examples/ (`examples`) also need helm and actionlint, built by
//! `scripts/tools build` (scripts/test runs it), and shellcheck; without them they fail,
//! naming what installs them.
//! Every other test works in a namespace and database of its own (`harness::Ns`), so tests
//! never see each other.

mod audit;
mod auth;
mod confirm;
mod connections;
#[cfg(feature = "demo")]
mod demo;
mod doctor;
mod dsl;
mod ecto;
mod examples;
mod exec;
mod faultproxy;
mod faults;
mod gate;
mod group;
mod harness;
mod impact;
#[cfg(feature = "real-node")]
mod in_cluster;
mod job;
mod job_outcome;
mod lock;
mod migrate;
mod pgbouncer;
mod plan;
mod plugin;
mod pods;
mod rbac;
#[cfg(feature = "real-node")]
mod real_node;
#[cfg(feature = "real-node")]
mod rollout;
mod settings;
mod tenants;
mod versions;
mod waits;
// Shared by both test targets; each uses only part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;
