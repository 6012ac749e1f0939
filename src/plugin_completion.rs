//! Completion of `kubectl kmigrate ...` by kubectl's own shell completion: kubectl 1.26 and
//! later runs `kubectl_complete-kmigrate` with the words typed after `kubectl kmigrate`, the
//! last one being the word to complete (empty for a new word), and reads one candidate per
//! line (`candidate<TAB>description`) and a last line `:<directive>`, as Cobra's `__complete`
//! prints them. The candidates come from the clap definition, so they cannot go stale.

use std::ffi::OsString;
use std::io::Write;

use clap::{Arg, Command, ValueHint};

/// Cobra's `ShellCompDirectiveDefault`: the shell may complete file names.
const DEFAULT: u8 = 0;
/// Cobra's `ShellCompDirectiveNoFileComp`: no file names.
const NO_FILE_COMP: u8 = 4;

/// What to offer for the last word.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    /// `candidate` or `candidate<TAB>description`.
    pub candidates: Vec<String>,
    /// Cobra's shell completion directive.
    pub directive: u8,
}

/// Answer kubectl: print the completions of `words` (the words after `kubectl kmigrate`)
/// on stdout. Always succeeds: a completion that fails must not break the shell.
pub fn run(cmd: Command, words: &[OsString]) -> std::process::ExitCode {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let done = complete(cmd, &words);
    let mut text = String::new();
    for c in &done.candidates {
        text.push_str(c);
        text.push('\n');
    }
    text.push_str(&format!(":{}\n", done.directive));
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    std::process::ExitCode::SUCCESS
}

/// The completions of the last of `words` after the ones before it.
pub fn complete(mut cmd: Command, words: &[String]) -> Completion {
    // Building propagates the global flags to every subcommand and adds help and version.
    cmd.build();
    let (last, before) = match words.split_last() {
        Some((last, before)) => (last.as_str(), before),
        None => ("", words),
    };
    let mut cur = &cmd;
    let mut pending: Option<&Arg> = None;
    let mut after_dashes = false;
    for word in before {
        // The value of the flag before.
        if pending.take().is_some() {
            continue;
        }
        if after_dashes {
            continue;
        }
        if word == "--" {
            after_dashes = true;
        } else if let Some(long) = word.strip_prefix("--") {
            if !long.contains('=') {
                pending = find_long(cur, long).filter(|a| takes_value(a));
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-vv`, `-n shop`, `-nshop`: a short flag that takes a value takes the rest of
            // the word, or the next word when it is the last letter.
            for (i, c) in shorts.char_indices() {
                let Some(arg) = find_short(cur, c) else { break };
                if takes_value(arg) {
                    if i + c.len_utf8() == shorts.len() {
                        pending = Some(arg);
                    }
                    break;
                }
            }
        } else if let Some(sub) = cur.find_subcommand(word) {
            cur = sub;
        }
    }
    if let Some(arg) = pending {
        return values(arg, last, "");
    }
    if after_dashes {
        // The remote command's own words: nothing to offer from here.
        return Completion {
            candidates: Vec::new(),
            directive: NO_FILE_COMP,
        };
    }
    if let Some((flag, value)) = last.strip_prefix("--").and_then(|l| l.split_once('=')) {
        return match find_long(cur, flag).filter(|a| takes_value(a)) {
            Some(arg) => values(arg, value, &format!("--{flag}=")),
            None => none(),
        };
    }
    if last.starts_with('-') {
        return flags(cur, last);
    }
    let mut candidates: Vec<String> = cur
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name().starts_with(last))
        .map(|s| described(s.get_name(), s.get_about().map(ToString::to_string)))
        .collect();
    let positional = cur
        .get_positionals()
        .find(|a| !a.is_last_set() && !a.is_hide_set());
    if let Some(arg) = positional.filter(|_| candidates.is_empty()) {
        return values(arg, last, "");
    }
    candidates.sort();
    Completion {
        candidates,
        directive: NO_FILE_COMP,
    }
}

/// The flags of `cmd` that start with `prefix`, long ones and short ones.
fn flags(cmd: &Command, prefix: &str) -> Completion {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let about = arg.get_help().map(ToString::to_string);
        let mut names: Vec<String> = Vec::new();
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        for name in names.into_iter().filter(|n| n.starts_with(prefix)) {
            candidates.push(described(&name, about.clone()));
        }
    }
    candidates.sort();
    Completion {
        candidates,
        directive: NO_FILE_COMP,
    }
}

/// The values `arg` accepts that start with `prefix`, each written after `lead`; file
/// names for a path, nothing for free text.
fn values(arg: &Arg, prefix: &str, lead: &str) -> Completion {
    let possible = arg.get_possible_values();
    if possible.is_empty() {
        let path = matches!(
            arg.get_value_hint(),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
        ) || arg
            .get_value_names()
            .is_some_and(|n| n.iter().any(|n| n == "PATH"));
        return if path && lead.is_empty() {
            Completion {
                candidates: Vec::new(),
                directive: DEFAULT,
            }
        } else {
            none()
        };
    }
    let candidates = possible
        .iter()
        .filter(|v| !v.is_hide_set() && v.get_name().starts_with(prefix))
        .map(|v| {
            described(
                &format!("{lead}{}", v.get_name()),
                v.get_help().map(ToString::to_string),
            )
        })
        .collect();
    Completion {
        candidates,
        directive: NO_FILE_COMP,
    }
}

fn none() -> Completion {
    Completion {
        candidates: Vec::new(),
        directive: NO_FILE_COMP,
    }
}

/// `name<TAB>first line of about`, as Cobra shows descriptions.
fn described(name: &str, about: Option<String>) -> String {
    match about.as_deref().and_then(|a| a.lines().next()) {
        Some(line) if !line.is_empty() => format!("{name}\t{line}"),
        _ => name.to_owned(),
    }
}

fn find_long<'a>(cmd: &'a Command, long: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| a.get_long() == Some(long))
}

fn find_short(cmd: &Command, short: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| a.get_short() == Some(short))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete_words(words: &[&str]) -> Completion {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        complete(crate::cli::command(), &words)
    }

    fn names(c: &Completion) -> Vec<&str> {
        c.candidates
            .iter()
            .map(|c| c.split('\t').next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_new_word_lists_the_subcommands_with_their_about() {
        let c = complete_words(&[""]);
        assert!(names(&c).contains(&"migrate"), "{c:?}");
        assert!(names(&c).contains(&"doctor"), "{c:?}");
        assert!(
            c.candidates
                .contains(&"migrate\tRun pending migrations".to_owned()),
            "{c:?}"
        );
        assert_eq!(c.directive, NO_FILE_COMP);
        // Nothing typed at all is the same as one empty word.
        assert_eq!(complete_words(&[]), c);
    }

    #[test]
    fn a_prefix_filters_subcommands() {
        assert_eq!(names(&complete_words(&["r"])), ["rollback", "runs"]);
        assert_eq!(names(&complete_words(&["mi"])), ["migrate"]);
    }

    #[test]
    fn flags_include_the_global_ones_after_a_subcommand() {
        let c = complete_words(&["migrate", "--"]);
        let n = names(&c);
        for flag in ["--namespace", "--selector", "--to", "--plan", "--help"] {
            assert!(n.contains(&flag), "{flag}: {c:?}");
        }
        assert!(
            !n.contains(&"--exit-code"),
            "status's flag offered to migrate"
        );
        assert_eq!(
            names(&complete_words(&["-n", "shop", "status", "--ex"])),
            ["--exit-code"]
        );
    }

    #[test]
    fn a_flag_value_is_completed_from_its_possible_values() {
        assert_eq!(names(&complete_words(&["-o", ""])), ["text", "json"]);
        assert_eq!(names(&complete_words(&["migrate", "--mode", "r"])), ["rpc"]);
        assert_eq!(names(&complete_words(&["--output=j"])), ["--output=json"]);
        assert_eq!(names(&complete_words(&["completions", "z"])), ["zsh"]);
    }

    #[test]
    fn a_path_value_completes_files_and_free_text_nothing() {
        assert_eq!(complete_words(&["--kubeconfig", ""]).directive, DEFAULT);
        let selector = complete_words(&["-l", ""]);
        assert!(selector.candidates.is_empty());
        assert_eq!(selector.directive, NO_FILE_COMP);
        // The value of -n is consumed: the next word is a subcommand again.
        assert_eq!(names(&complete_words(&["-n", "shop", "pl"])), ["plan"]);
        assert_eq!(names(&complete_words(&["-nshop", "pl"])), ["plan"]);
    }

    #[test]
    fn after_double_dash_is_the_remote_command() {
        let c = complete_words(&["exec", "--", "bin/app", ""]);
        assert!(c.candidates.is_empty());
        assert_eq!(c.directive, NO_FILE_COMP);
    }
}
