//! The kmigrate binary: parse the arguments, run, exit with the run's code.

use std::process::ExitCode;

fn main() -> ExitCode {
    kmigrate::run(std::env::args_os())
}
