//! HTML for people: the patient's summary in an access package
//! ([`summary`]), its access report from the audit log ([`access`]) and
//! the certificate for the patient's letter ([`certificate`]).
//!
//! Written with maud: every value spliced into a page is HTML-escaped by
//! construction (only this module's constant style sheet is not), the
//! pages are checked at compile time, and they load nothing from outside
//! (no script, font, image or style sheet by URL), so they open offline.

pub mod access;
pub mod certificate;
pub mod summary;

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The one style sheet, inline (a constant: nothing of the data in it).
const STYLE: &str = "body{font-family:sans-serif;max-width:52em;margin:2em auto;\
padding:0 1em;line-height:1.45;color:#111}h1{font-size:1.5em}h2{font-size:1.15em;\
margin-top:1.8em;border-bottom:1px solid #bbb}table{border-collapse:collapse;\
width:100%}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;\
vertical-align:top}.cite{color:#555;font-size:.9em}.none{color:#555}";

/// A complete page: `lang`, `title`, `body`.
pub(crate) fn page(lang: &str, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// A legal citation, shown after the text it supports.
pub(crate) fn cite(source: &str) -> Markup {
    html! { " " span.cite { "(" (source) ")" } }
}
