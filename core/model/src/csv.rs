//! A small CSV reader (RFC 4180) for the bulk imports: comma-separated
//! fields; a quoted field may hold commas, line breaks and doubled quotes;
//! lines end in LF, CRLF or CR; a UTF-8 byte-order mark (as spreadsheets
//! write) is skipped. Each record knows the line it starts on, so that an
//! import can name the lines it refused. Blank records (an empty line, or
//! only commas, as spreadsheets leave at the end) are skipped.
//!
//! Kept instead of the `csv` crate for its strict errors: `csv` (1.x) has
//! no strict mode (rust-csv issue 77 is open) and reads broken quoting
//! without an error: a field's unclosed quote swallows the rest of the file
//! into that field (issue 289), a stray `"` stays in the text and text after
//! a closing quote is glued on. A merchant's price or stock file with one
//! bad quote would import wrong values instead of being refused with its
//! line. Positions and blank rows would still need code around the crate;
//! the file sizes of a bulk import do not need its speed.

/// One record and the 1-based line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Why a text is not CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("line {0}: a quoted field is never closed")]
    UnclosedQuote(usize),
    #[error("line {0}: a `\"` inside an unquoted field; quote the whole field and double the quote (\"say \"\"hi\"\"\")")]
    StrayQuote(usize),
    #[error("line {0}: text after the closing quote of a field; a field is either all quoted or not at all")]
    TextAfterQuote(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (nothing read yet).
    FieldStart,
    Unquoted,
    Quoted,
    /// Just after the closing quote of a quoted field.
    AfterQuote,
}

/// Reads every non-blank record of `text`.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::FieldStart;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Quoted => match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => state = State::AfterQuote,
                '\r' if chars.peek() == Some(&'\n') => {}
                '\r' | '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            },
            _ => match c {
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    state = State::FieldStart;
                }
                '\r' | '\n' => {
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    fields.push(std::mem::take(&mut field));
                    push_record(&mut records, record_line, std::mem::take(&mut fields));
                    line += 1;
                    record_line = line;
                    state = State::FieldStart;
                }
                '"' if state == State::FieldStart => state = State::Quoted,
                '"' if state == State::Unquoted => return Err(CsvError::StrayQuote(line)),
                _ if state == State::AfterQuote => return Err(CsvError::TextAfterQuote(line)),
                c => {
                    field.push(c);
                    state = State::Unquoted;
                }
            },
        }
    }
    match state {
        State::Quoted => return Err(CsvError::UnclosedQuote(record_line)),
        // The text ended with a line break: no record is open.
        State::FieldStart if fields.is_empty() && field.is_empty() => {}
        _ => {
            fields.push(field);
            push_record(&mut records, record_line, fields);
        }
    }
    Ok(records)
}

fn push_record(records: &mut Vec<Record>, line: usize, fields: Vec<String>) {
    if fields.iter().any(|f| !f.trim().is_empty()) {
        records.push(Record { line, fields });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(records: &[Record]) -> Vec<(usize, Vec<&str>)> {
        records
            .iter()
            .map(|r| (r.line, r.fields.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn plain_fields_and_line_numbers() {
        let r = parse("a,b,c\n1,2,3\n").unwrap();
        assert_eq!(
            fields(&r),
            [(1, vec!["a", "b", "c"]), (2, vec!["1", "2", "3"])]
        );
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_line_breaks() {
        let r = parse(
            "name,note\r\n\"Mug, large\",\"say \"\"hi\"\"\"\r\n\"two\r\nlines\",x\r\nlast,\"\"",
        )
        .unwrap();
        assert_eq!(
            fields(&r),
            [
                (1, vec!["name", "note"]),
                (2, vec!["Mug, large", "say \"hi\""]),
                (3, vec!["two\nlines", "x"]),
                (5, vec!["last", ""]),
            ]
        );
    }

    #[test]
    fn blank_lines_and_empty_rows_are_skipped_but_counted() {
        let r = parse("\u{feff}a,b\n\n,\n1,2").unwrap();
        assert_eq!(fields(&r), [(1, vec!["a", "b"]), (4, vec!["1", "2"])]);
    }

    #[test]
    fn empty_fields_are_kept() {
        let r = parse("a,,c,\n").unwrap();
        assert_eq!(fields(&r), [(1, vec!["a", "", "c", ""])]);
    }

    #[test]
    fn broken_quoting_is_refused_with_its_line() {
        assert_eq!(parse("a\n\"open,b\nc"), Err(CsvError::UnclosedQuote(2)));
        assert_eq!(parse("a\nb\"c\n"), Err(CsvError::StrayQuote(2)));
        assert_eq!(parse("a\n\"b\"c\n"), Err(CsvError::TextAfterQuote(2)));
    }

    #[test]
    fn cr_alone_ends_a_line() {
        let r = parse("a\rb").unwrap();
        assert_eq!(fields(&r), [(1, vec!["a"]), (2, vec!["b"])]);
    }
}
