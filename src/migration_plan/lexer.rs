//! Just enough of Elixir's lexical rules to tell a migration's code from its string
//! literals and its comments, so that the DSL rules read code, the SQL rules read strings,
//! and comments only carry opt-outs.

/// A migration's source, split.
#[derive(Debug)]
pub struct Lexed {
    /// The source with comments, char literals and the contents of string literals
    /// blanked (spaces, line breaks kept, so offsets and line numbers stay those of the
    /// source). A literal whose contents look like a name (letters, digits, `_`, `.`) is
    /// kept, so that `table("posts")` still names its table.
    pub code: String,
    /// The string literals: `"..."`, `'...'`, heredocs and sigils.
    pub strings: Vec<Literal>,
    /// The comments.
    pub comments: Vec<Comment>,
}

/// One string literal.
#[derive(Debug)]
pub struct Literal {
    /// Byte offset of its opening delimiter.
    pub start: usize,
    /// Byte offset after its closing delimiter.
    pub end: usize,
    /// The line (1-based) its contents start on.
    pub line: u32,
    /// Its contents, with each interpolation `#{...}` left out (its line breaks kept).
    pub text: String,
}

/// One comment.
#[derive(Debug)]
pub struct Comment {
    /// Its line (1-based).
    pub line: u32,
    /// Its text after `#`.
    pub text: String,
}

/// Split `source` into code, string literals and comments.
pub fn lex(source: &str) -> Lexed {
    let mut s = Scanner {
        b: source.as_bytes(),
        code: source.as_bytes().to_vec(),
        strings: Vec::new(),
        comments: Vec::new(),
    };
    let mut i = 0;
    while i < s.b.len() {
        i = s.token(i, true);
    }
    Lexed {
        // Only whole runs of bytes between ASCII delimiters were replaced by spaces.
        code: String::from_utf8(s.code).unwrap_or_default(),
        strings: s.strings,
        comments: s.comments,
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    code: Vec<u8>,
    strings: Vec<Literal>,
    comments: Vec<Comment>,
}

fn ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'!' || c == b'?' || c >= 0x80
}

fn closing(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        other => other,
    }
}

impl Scanner<'_> {
    fn line_of(&self, at: usize) -> u32 {
        let n = self.b[..at.min(self.b.len())]
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        u32::try_from(n + 1).unwrap_or(u32::MAX)
    }

    fn blank(&mut self, from: usize, to: usize) {
        for c in &mut self.code[from..to.min(self.b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    }

    /// Read the token at `i` (code, a comment or a literal); returns where the next starts.
    /// `record` is false inside an interpolation, whose literals are not the migration's.
    fn token(&mut self, i: usize, record: bool) -> usize {
        let b = self.b;
        match b[i] {
            b'#' => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                if record {
                    self.comments.push(Comment {
                        line: self.line_of(i),
                        text: String::from_utf8_lossy(&b[i + 1..end]).into_owned(),
                    });
                }
                self.blank(i, end);
                end
            }
            q @ (b'"' | b'\'') => {
                if b[i..].starts_with(&[q, q, q]) {
                    self.heredoc(i, i + 3, q, true, record)
                } else {
                    self.literal(i, i + 1, q, true, record)
                }
            }
            b'~' if b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => self.sigil(i, record),
            // A char literal (`?"`, `?#`, `?\n`), not the `?` ending a name like `valid?`.
            b'?' if (i == 0 || !ident_byte(b[i - 1])) && i + 1 < b.len() => {
                let mut end = i + 2;
                if b[i + 1] == b'\\' {
                    end += 1;
                }
                while end < b.len() && (b[end] & 0xC0) == 0x80 {
                    end += 1;
                }
                self.blank(i, end);
                end
            }
            _ => i + 1,
        }
    }

    /// `~s(...)`, `~S"..."`, `~r/.../i`, `~s"""..."""`: lowercase sigils interpolate.
    fn sigil(&mut self, i: usize, record: bool) -> usize {
        let b = self.b;
        let mut j = i + 1;
        let interpolates = b[j].is_ascii_lowercase();
        while j < b.len() && b[j].is_ascii_alphabetic() {
            j += 1;
        }
        let Some(&open) = b.get(j) else {
            return j;
        };
        let end = match open {
            b'"' | b'\'' if b[j..].starts_with(&[open, open, open]) => {
                self.heredoc(i, j + 3, open, interpolates, record)
            }
            b'"' | b'\'' | b'(' | b'[' | b'{' | b'<' | b'/' | b'|' => {
                self.literal(i, j + 1, closing(open), interpolates, record)
            }
            _ => return j,
        };
        let mut k = end;
        while k < b.len() && b[k].is_ascii_alphabetic() {
            k += 1;
        }
        k
    }

    /// A one-delimiter literal whose contents start at `from` and end before `close`.
    fn literal(
        &mut self,
        start: usize,
        from: usize,
        close: u8,
        interpolates: bool,
        record: bool,
    ) -> usize {
        let (end, text) =
            self.contents(from, interpolates, |b, j| (b[j] == close).then_some(j + 1));
        self.finish(start..end, from, end.saturating_sub(1), text, record);
        end
    }

    /// A heredoc: contents from `from` up to the line whose first non-blank characters are
    /// the three closing quotes.
    fn heredoc(
        &mut self,
        start: usize,
        from: usize,
        quote: u8,
        interpolates: bool,
        record: bool,
    ) -> usize {
        // The contents start on the next line.
        let from = self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| from + p + 1);
        let (end, text) = self.contents(from, interpolates, |b, j| {
            let line_start = b[..j]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |p| p + 1);
            let at_line_start = b[line_start..j].iter().all(|c| c.is_ascii_whitespace());
            (at_line_start && b[j..].starts_with(&[quote, quote, quote])).then_some(j + 3)
        });
        self.finish(start..end, from, end.saturating_sub(3), text, record);
        end
    }

    /// Read contents from `from` until `ends` says where the literal ends; returns that end
    /// and the text, escapes read and interpolations left out.
    fn contents(
        &mut self,
        from: usize,
        interpolates: bool,
        ends: impl Fn(&[u8], usize) -> Option<usize>,
    ) -> (usize, Vec<u8>) {
        let b = self.b;
        let mut text = Vec::new();
        let mut j = from;
        while j < b.len() {
            if let Some(end) = ends(b, j) {
                return (end, text);
            }
            match b[j] {
                b'\\' if j + 1 < b.len() => {
                    text.push(match b[j + 1] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                    j += 2;
                }
                b'#' if interpolates && b.get(j + 1) == Some(&b'{') => {
                    let after = self.interpolation(j + 2);
                    text.extend(b[j..after].iter().filter(|&&c| c == b'\n'));
                    j = after;
                }
                c => {
                    text.push(c);
                    j += 1;
                }
            }
        }
        (b.len(), text)
    }

    /// Skip the code of an interpolation that starts at `i`; returns the offset after its
    /// closing brace.
    fn interpolation(&mut self, mut i: usize) -> usize {
        let mut depth = 0usize;
        while i < self.b.len() {
            match self.b[i] {
                b'{' => {
                    depth += 1;
                    i += 1;
                }
                b'}' if depth == 0 => return i + 1,
                b'}' => {
                    depth -= 1;
                    i += 1;
                }
                _ => i = self.token(i, false),
            }
        }
        i
    }

    fn finish(
        &mut self,
        whole: std::ops::Range<usize>,
        from: usize,
        to: usize,
        text: Vec<u8>,
        record: bool,
    ) {
        let name_like = !text.is_empty()
            && to.saturating_sub(from) == text.len()
            && text
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
        if !name_like {
            self.blank(from, to);
        }
        if record {
            self.strings.push(Literal {
                start: whole.start,
                end: whole.end,
                line: self.line_of(from),
                text: String::from_utf8_lossy(&text).into_owned(),
            });
        }
    }
}

/// One expression of the code, which may span lines: open brackets, or a line ending in
/// a comma or a binary operator, carry it on.
#[derive(Debug)]
pub struct Statement {
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset after its last line.
    pub end: usize,
    /// The line (1-based) it starts on.
    pub line: u32,
    /// Its first line's indentation, in bytes.
    pub indent: usize,
}

impl Statement {
    /// The statement's text in `text` (the code view, or the source: offsets are shared).
    pub fn of<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }
}

/// The statements of a code view, in order; a line break inside one of `strings` (a
/// heredoc) carries the statement on too.
pub fn statements(code: &str, strings: &[Literal]) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut open: Option<Statement> = None;
    let mut depth: i64 = 0;
    let mut offset = 0;
    for (n, line) in code.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() && open.is_none() {
            continue;
        }
        let s = open.get_or_insert(Statement {
            start,
            end: offset,
            line: u32::try_from(n + 1).unwrap_or(u32::MAX),
            indent: line.len() - line.trim_start().len(),
        });
        s.end = offset;
        for c in line.bytes() {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                _ => {}
            }
        }
        const CARRY: [&str; 8] = [",", "\\", "<>", "|>", "++", "||", "&&", "="];
        let in_literal = strings.iter().any(|l| l.start < offset && l.end > offset);
        let carries = depth > 0 || in_literal || CARRY.iter().any(|op| trimmed.ends_with(op));
        if !carries {
            depth = 0;
            out.extend(open.take());
        }
    }
    out.extend(open);
    out
}

/// Where the `do ... end` block opened by the statement at `at` ends (the offset after
/// its `end` line): the first later line at the same indentation that is `end`. This is
/// the layout `mix format` writes; a hand-laid-out block may be misread. `None` when no
/// `end` line is at the opener's indentation.
pub fn block_end(code: &str, statements: &[Statement], at: usize) -> Option<usize> {
    let opener = &statements[at];
    statements[at + 1..]
        .iter()
        .find(|s| {
            let t = s.of(code).trim();
            s.indent == opener.indent
                && t.strip_prefix("end").is_some_and(|rest| {
                    !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
        })
        .map(|s| s.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_strings_and_comments_are_told_apart() {
        let src = "def up do\n  # DROP TABLE in a comment\n  execute \"DROP TABLE x\" # gone\n  create index(\"posts\", [:title])\nend\n";
        let l = lex(src);
        assert_eq!(l.code.len(), src.len());
        assert!(!l.code.contains("DROP"), "{}", l.code);
        assert!(l.code.contains("index(\"posts\""), "{}", l.code);
        let texts: Vec<&str> = l.strings.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["DROP TABLE x", "posts"]);
        assert_eq!(l.strings[0].line, 3);
        let comments: Vec<(u32, &str)> =
            l.comments.iter().map(|c| (c.line, c.text.trim())).collect();
        assert_eq!(comments, [(2, "DROP TABLE in a comment"), (3, "gone")]);
    }

    #[test]
    fn heredocs_sigils_interpolations_and_char_literals() {
        let src = concat!(
            "execute \"\"\"\n",
            "ALTER TABLE #{prefix()}.posts\n",
            "  DROP COLUMN \"body\"\n",
            "\"\"\"\n",
            "x = ~s(RENAME TO y)\n",
            "q = ?\" <> ~S|#{no}|\n",
            "name = \"#{qualified(\"notes\")}s\"\n",
            "ok? = valid?(1)\n",
        );
        let l = lex(src);
        let texts: Vec<&str> = l.strings.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "ALTER TABLE .posts\n  DROP COLUMN \"body\"\n",
                "RENAME TO y",
                "#{no}",
                "s"
            ]
        );
        assert_eq!(l.strings[0].line, 2);
        assert!(l.code.contains("valid?(1)"), "{}", l.code);
        let stmts = statements(&l.code, &l.strings);
        let lines: Vec<u32> = stmts.iter().map(|s| s.line).collect();
        assert_eq!(lines, [1, 5, 6, 7, 8], "the heredoc is one statement");
    }

    #[test]
    fn statements_follow_brackets_and_trailing_commas() {
        let src = "create index(:posts, [:title],\n  concurrently: true)\nexecute \"A\",\n        \"B\"\nflush()\n";
        let l = lex(src);
        let stmts = statements(&l.code, &l.strings);
        let texts: Vec<&str> = stmts.iter().map(|s| s.of(src).trim()).collect();
        assert_eq!(
            texts,
            [
                "create index(:posts, [:title],\n  concurrently: true)",
                "execute \"A\",\n        \"B\"",
                "flush()"
            ]
        );
    }

    #[test]
    fn blocks_end_at_their_end() {
        let src = "def up do\n  alter table(:posts) do\n    remove :x\n  end\n  flush()\nend\ndef down do\nend\n";
        let l = lex(src);
        let (code, stmts) = (&l.code, statements(&l.code, &l.strings));
        let alter = stmts.iter().position(|s| s.line == 2).unwrap();
        assert_eq!(
            &src[..block_end(code, &stmts, alter).unwrap()],
            "def up do\n  alter table(:posts) do\n    remove :x\n  end\n"
        );
        assert_eq!(block_end(code, &stmts, 0), src.find("def down"));
        let unended = "def up do\n  flush()\n    end\n";
        let l = lex(unended);
        assert_eq!(
            block_end(&l.code, &statements(&l.code, &l.strings), 0),
            None
        );
    }
}
