use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    kmigrate::run(kmigrate::cli::Cli::parse())
}
