//! Parser error messages without the input's values.
//!
//! serde, serde_json and toml repeat the offending value in their messages
//! (``invalid type: string "Doe", expected u32``, ``unknown variant `x`,
//! expected one of `a`, `b` ``). The input can be a patient's name or a
//! secret, so [`serde_message`] hides it, and keeps what helps the user fix
//! the input: the kind of value found, the *allowed* values (they come from
//! the program, not the input), and the names of missing, duplicate or
//! unknown fields when they look like field names.

/// What replaces a hidden value.
pub const HIDDEN: &str = "(value)";

/// The longest unknown field name that is shown.
const MAX_NAME: usize = 40;

/// Rewrites a serde-style error message so that no value from the input
/// remains in it.
///
/// The part after the last `, expected` (what the program expected: a type,
/// the allowed variants or fields) is kept as it is. Before it:
/// - `missing field` and `duplicate field` keep their name (it comes from the
///   program's own schema);
/// - `unknown field` keeps its name when it looks like a field name (1 to 40
///   characters of `a-z`, `0-9`, `_`, `-`), so a typo such as `hold` can be
///   seen; anything else is hidden;
/// - in serde's `invalid type`, `invalid value` and `unknown variant`
///   messages everything from the first quote or backtick on is hidden (a
///   value can itself contain quotes), except serde_json's final
///   ` at line L column C`;
/// - in other messages (a type's own parser), each `"…"` is hidden and
///   back-ticked names are kept.
///
/// ```
/// use gdpr_core::redact::serde_message;
///
/// let m = serde_message("unknown variant `Doe`, expected one of `physician`, `nurse`");
/// assert_eq!(m, "unknown variant (value), expected one of `physician`, `nurse`");
/// ```
pub fn serde_message(message: &str) -> String {
    let (head, tail) = match message.rfind(", expected") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    let head = if head.starts_with("missing field `") || head.starts_with("duplicate field `") {
        head.to_owned()
    } else if let Some(name) = head
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        if is_field_name(name) {
            head.to_owned()
        } else {
            format!("unknown field {HIDDEN}")
        }
    } else {
        hide_quoted(head)
    };
    head + tail
}

/// A TOML parser error as [`serde_message`] leaves it, prefixed with the
/// line it points at (`line 3: …`): the line is named, never quoted, so the
/// message does not echo whatever was written in the file.
pub fn toml_message(text: &str, error: &toml::de::Error) -> String {
    let line = error.span().map_or(String::new(), |span| {
        let end = span.start.min(text.len());
        let n = text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        format!("line {}: ", n + 1)
    });
    let why = serde_message(error.message().trim()).replace('\n', " ");
    format!("{line}{why}")
}

/// Whether `name` looks like a field name of this project's formats (and so
/// may be shown): 1 to 40 characters of `a-z`, `0-9`, `_` and `-`.
pub fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The messages serde itself writes around a value from the input.
const SERDE_PREFIXES: [&str; 4] = [
    "invalid type: ",
    "invalid value: ",
    "unknown variant ",
    "unknown field ",
];

/// In serde's own messages, keeps `text` up to its first quote or backtick
/// and hides the rest (a value can contain quotes, so nothing after the
/// first one is trusted), except a final ` at line L column C`. In other
/// messages (written by a type's own parser: back-ticks quote field names
/// and allowed values), hides each `"…"`.
fn hide_quoted(text: &str) -> String {
    let (body, position) = split_position(text);
    if SERDE_PREFIXES.iter().any(|p| body.starts_with(p)) {
        return match body.find(['"', '`']) {
            Some(i) => format!("{}{HIDDEN}{position}", &body[..i]),
            None => text.to_owned(),
        };
    }
    let mut out = String::with_capacity(text.len());
    let (mut inside, mut escaped) = (false, false);
    for c in text.chars() {
        match c {
            '"' if !inside => {
                inside = true;
                out.push_str(HIDDEN);
            }
            _ if !inside => out.push(c),
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => inside = false,
            _ => {}
        }
    }
    out
}

/// Splits off a final ` at line L column C`.
fn split_position(text: &str) -> (&str, &str) {
    let Some(i) = text.rfind(" at line ") else {
        return (text, "");
    };
    let rest = &text[i + " at line ".len()..];
    let well_formed = rest.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty()
            && !c.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
    });
    if well_formed {
        text.split_at(i)
    } else {
        (text, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_values_stay_and_the_input_goes() {
        let m = serde_message(
            "unknown variant `CANARY`, expected one of `physician`, `nurse` at line 2 column 9",
        );
        assert!(!m.contains("CANARY"), "{m}");
        assert!(m.contains("`physician`, `nurse`"), "{m}");
        assert!(m.contains("line 2 column 9"), "{m}");
    }

    #[test]
    fn values_that_imitate_the_message_do_not_escape() {
        for m in [
            r#"invalid type: string "a\"CANARY", expected u32"#,
            r#"invalid type: string "x, expected CANARY", expected u32"#,
            "unknown variant `x`CANARY`, expected one of `a`",
            "unknown field `CANARY-Doe`, expected `id`",
            "unknown field `x` CANARY`, expected `id`",
            "invalid value: `CANARY",
            r#"failed to parse "x\"CANARY" as a date"#,
            r#"invalid type: string "CANARY" at line 1 column 5"#,
        ] {
            let out = serde_message(m);
            assert!(!out.contains("CANARY"), "{m} -> {out}");
        }
    }

    #[test]
    fn a_parsers_own_message_keeps_its_backticked_names() {
        let m = "so `basis` must be a pair, and \"CANARY\" is not";
        assert_eq!(
            serde_message(m),
            "so `basis` must be a pair, and (value) is not"
        );
    }

    #[test]
    fn field_names_from_the_schema_and_plain_typos_are_shown() {
        assert_eq!(
            serde_message("unknown field `hold`, expected `holds`"),
            "unknown field `hold`, expected `holds`"
        );
        assert_eq!(serde_message("missing field `id`"), "missing field `id`");
        assert_eq!(
            serde_message("duplicate field `at`"),
            "duplicate field `at`"
        );
    }
}
