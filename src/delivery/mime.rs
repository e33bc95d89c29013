//! The e-mail text: a `multipart/alternative` message with a plain-text and an HTML part,
//! written byte for byte by us (lettre only carries it), so that the outbox holds the same
//! bytes on every run and the `Message-ID` is the delivery's stable id.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// What one e-mail says.
pub struct Mail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    /// The delivery id (without brackets); also the MIME boundary's tail.
    pub id: &'a str,
    /// The id of the message this one updates.
    pub replaces: Option<&'a str>,
    /// RFC 2822 date.
    pub date: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// The domain part of our `Message-ID`s.
pub const ID_DOMAIN: &str = "metrictree.invalid";

/// `<id@metrictree.invalid>`.
pub fn message_id(id: &str) -> String {
    format!("<{id}@{ID_DOMAIN}>")
}

/// The message in RFC 5322 form, CRLF line ends, 7-bit clean.
pub fn render(m: &Mail) -> Vec<u8> {
    let boundary = format!("=_metrictree_{}", m.id);
    let mut h = String::new();
    let mut header = |name: &str, value: &str| {
        h.push_str(name);
        h.push_str(": ");
        h.push_str(value);
        h.push_str("\r\n");
    };
    header("From", &one_line(m.from));
    header("To", &one_line(m.to));
    header("Subject", &encode_word(&one_line(m.subject)));
    header("Date", &one_line(m.date));
    header("Message-ID", &message_id(m.id));
    if let Some(r) = m.replaces {
        header("In-Reply-To", &message_id(r));
        header("References", &message_id(r));
    }
    header("Auto-Submitted", "auto-generated");
    header("X-Metrictree-Delivery", m.id);
    header("MIME-Version", "1.0");
    header(
        "Content-Type",
        &format!("multipart/alternative; boundary=\"{boundary}\""),
    );
    h.push_str("\r\n");
    for (ty, body) in [("text/plain", m.text), ("text/html", m.html)] {
        h.push_str(&format!(
            "--{boundary}\r\nContent-Type: {ty}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        let b64 = STANDARD.encode(body.as_bytes());
        for chunk in b64.as_bytes().chunks(76) {
            h.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            h.push_str("\r\n");
        }
    }
    h.push_str(&format!("--{boundary}--\r\n"));
    h.into_bytes()
}

/// Header values hold no line breaks (no header injection from a tree's labels).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// RFC 2047: ASCII text as it is, anything else as UTF-8 base64 encoded-words (each at most
/// 75 characters, split on character boundaries).
fn encode_word(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_with_stable_ids() {
        let m = Mail {
            from: "a@example.com",
            to: "b@example.com",
            subject: "Handoff rate rose\r\nBcc: evil@example.com",
            id: "abc123",
            replaces: Some("old"),
            date: "Mon, 16 Nov 2026 00:00:00 +0000",
            text: "plain ü",
            html: "<p>html</p>",
        };
        let out = String::from_utf8(render(&m)).unwrap();
        assert!(out.is_ascii());
        assert!(out.contains("Message-ID: <abc123@metrictree.invalid>\r\n"));
        assert!(out.contains("In-Reply-To: <old@metrictree.invalid>\r\n"));
        assert!(!out.contains("\r\nBcc:"), "{out}");
        assert!(out.contains("Subject: Handoff rate rose  Bcc: evil@example.com\r\n"));
        let m2 = Mail {
            subject: "Ü — +3.9 points",
            to: "b@example.com\nCc: evil@example.com",
            ..m
        };
        let out2 = String::from_utf8(render(&m2)).unwrap();
        assert!(out2.is_ascii() && !out2.contains("\nCc:"), "{out2}");
        assert!(out2.contains("Subject: =?utf-8?b?"), "{out2}");
        assert!(out.contains(&STANDARD.encode("plain ü")));
        assert!(out.ends_with("--=_metrictree_abc123--\r\n"));
        for line in out.split("\r\n") {
            assert!(line.len() <= 998);
        }
    }
}
