//! kmigrate's one integration-test binary: the built `kmigrate` run as a user runs it.
//!
//! `cli` needs nothing but the binary; `e2e` needs the local cluster and PostgreSQL
//! (`scripts/cluster up`) and fails loudly when they are missing.

mod cli;
mod e2e;
mod faultproxy;
mod support;
