use std::process::ExitCode;

fn main() -> ExitCode {
    kmigrate::run(std::env::args_os())
}
