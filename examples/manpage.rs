//! Write kmigrate's man pages into a directory (default `man/`): `kmigrate.1`, and
//! `kmigrate-SUBCOMMAND.1` for each subcommand. `scripts/manpage` runs it; a CLI test fails
//! when the committed pages differ from what it writes.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("man"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    clap_mangen::generate_to(kmigrate::command(), &dir)
}
