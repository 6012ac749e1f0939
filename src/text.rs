//! Text shown to people: control characters from elsewhere escaped, argv as typed. A leaf:
//! it imports nothing of kmigrate's.

/// An argv as a person would type it, for plans and messages.
pub fn shown_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text from the app (an error that names its database URL) with the password of every URL
/// masked: `ecto://user:secret@db/app` becomes `ecto://user:***@db/app`.
pub fn without_url_passwords(s: &str) -> String {
    static URL_PASSWORD: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    URL_PASSWORD
        .get_or_init(|| regex::Regex::new(r"(\w://[^:/@\s]*:)[^@\s]+@").unwrap())
        .replace_all(s, "${1}***@")
        .into_owned()
}

/// Text for people (notes, plans, tables, errors) with the control characters that came
/// from elsewhere escaped: line breaks and tabs stay, and so does the bold kmigrate adds.
pub fn printable_text(s: &str) -> String {
    const BOLD: (&str, char) = ("\u{1b}[1m", '\u{e000}');
    const PLAIN: (&str, char) = ("\u{1b}[0m", '\u{e001}');
    let marked = s
        .replace(BOLD.0, &BOLD.1.to_string())
        .replace(PLAIN.0, &PLAIN.1.to_string());
    let mut out = String::with_capacity(marked.len());
    for c in marked.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c == BOLD.1 => out.push_str(BOLD.0),
            c if c == PLAIN.1 => out.push_str(PLAIN.0),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn url_passwords_are_masked_and_the_rest_kept() {
        let said = without_url_passwords(
            "(Ecto.InvalidURLError) invalid url ecto://shop:hunter2@db.internal/shop, \
             path should be a database name; see postgres://a:b@h:5432/d?ssl=true",
        );
        assert_eq!(
            said,
            "(Ecto.InvalidURLError) invalid url ecto://shop:***@db.internal/shop, \
             path should be a database name; see postgres://a:***@h:5432/d?ssl=true"
        );
        for kept in [
            "https://db.internal:5432/x",
            "user@host: no",
            "at 12:00:01 a@b",
        ] {
            assert_eq!(without_url_passwords(kept), kept);
        }
    }

    #[test]
    fn notes_keep_lines_tabs_and_our_bold() {
        let t = printable_text("\u{1b}[1mProtected\u{1b}[0m (x)\n  name:\tdrop\rusers\u{7}");
        assert_eq!(
            t,
            "\u{1b}[1mProtected\u{1b}[0m (x)\n  name:\tdrop\\u{d}users\\u{7}"
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            printable_text("drop_users\r   \x1b[2J"),
            "drop_users\\u{d}   \\u{1b}[2J"
        );
        assert_eq!(printable_text("plain name"), "plain name");
        assert_eq!(printable_text("c1\u{9b}31m"), "c1\\u{9b}31m");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Whatever a remote, a lease or a kubeconfig says, nothing shown can move the
        /// cursor: only line breaks and tabs pass.
        #[test]
        fn nothing_shown_is_a_control_character(input in "\\PC{0,20}[\\x00-\\x1f\\x7f-\\u{9f}]{0,4}\\PC{0,20}") {
            prop_assume!(!input.contains("\u{1b}[1m") && !input.contains("\u{1b}[0m"));
            prop_assert!(!printable_text(&input).chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }
    }

    #[test]
    fn argv_display_quotes_what_a_shell_would_split() {
        let argv = [
            "/app/bin/demo".to_owned(),
            "eval".to_owned(),
            "IO.puts(\"it's\")".to_owned(),
        ];
        assert_eq!(
            shown_argv(&argv),
            "/app/bin/demo eval 'IO.puts(\"it'\\''s\")'"
        );
    }
}
