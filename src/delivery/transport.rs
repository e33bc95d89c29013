//! Sending one message over the network, and what the answer means: delivered, worth
//! retrying (connection refused, timeouts, SMTP 4xx, HTTP 5xx, 429 with `Retry-After`), or
//! permanent (SMTP 5xx, other HTTP 4xx). Error texts may name the server but never a
//! credential or a webhook URL (`Settings::scrub` runs over them again before they are shown).

use std::time::Duration;

use lettre::Transport as _;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};

use super::settings::{Secret, Security, Smtp};

/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Delivered,
    /// Try again later; the server may say when.
    Transient {
        why: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
}

/// An SMTP connection setting (a connection per message: a run sends a handful).
pub struct Mailer {
    transport: SmtpTransport,
}

impl Mailer {
    pub fn new(s: &Smtp) -> Result<Mailer, String> {
        let tls_err = |e: lettre::transport::smtp::Error| {
            format!("cannot set up TLS for the SMTP server {}: {e}", s.host)
        };
        // The public roots (webpki-roots), plus the operator's own CA when it names one.
        let params = || {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(pem) = &s.ca_pem {
                let cert = Certificate::from_pem(pem).map_err(|_| {
                    "METRICTREE_SMTP_CA_FILE holds no PEM certificate; give the CA certificate of the SMTP server".to_string()
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(tls_err)
        };
        let plain = SmtpTransport::builder_dangerous(&s.host);
        let builder = match s.security {
            Security::Tls => plain.tls(Tls::Wrapper(params()?)),
            Security::StartTls => plain.tls(Tls::Required(params()?)),
            Security::Plain => plain,
        };
        let mut builder = builder.port(s.port).timeout(Some(TIMEOUT));
        if let Some(u) = &s.user {
            let p = s.password.as_ref().map_or("", Secret::expose);
            builder = builder.credentials(Credentials::new(u.clone(), p.to_string()));
        }
        Ok(Mailer {
            transport: builder.build(),
        })
    }

    pub fn send(&self, from: &str, to: &str, bytes: &[u8]) -> Answer {
        let (Ok(f), Ok(t)) = (from.parse::<Address>(), to.parse::<Address>()) else {
            return Answer::Permanent(format!(
                "`{to}` or the sender is not an address the SMTP client accepts"
            ));
        };
        let envelope = match Envelope::new(Some(f), vec![t]) {
            Ok(e) => e,
            Err(e) => return Answer::Permanent(format!("no envelope: {e}")),
        };
        match self.transport.send_raw(&envelope, bytes) {
            Ok(_) => Answer::Delivered,
            Err(e) if e.is_permanent() => {
                Answer::Permanent(format!("the SMTP server refused it: {e}"))
            }
            // TLS (a certificate the roots do not vouch for), login mechanisms, malformed
            // answers: another try would fail the same way.
            Err(e)
                if !e.is_timeout()
                    && (e.is_tls() || e.is_client() || e.is_response() || bad_data(&e)) =>
            {
                Answer::Permanent(format!("SMTP: {e}"))
            }
            // 4xx answers, timeouts, refused or broken connections: worth another try.
            Err(e) => Answer::Transient {
                why: format!("SMTP: {e}"),
                retry_after: None,
            },
        }
    }
}

/// Whether an error comes from bytes the client refused (rustls reports a certificate it
/// cannot verify as invalid data on the connection), not from the network.
fn bad_data(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut at = Some(e);
    while let Some(x) = at {
        if let Some(io) = x.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidData
        {
            return true;
        }
        at = x.source();
    }
    false
}

/// A blocking HTTP client that follows no redirects (a webhook that moved is the operator's
/// to update, not ours to chase).
pub struct Poster {
    agent: ureq::Agent,
}

impl Default for Poster {
    fn default() -> Poster {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("metrictree/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Poster { agent }
    }
}

impl Poster {
    /// POSTs a JSON body; `key` becomes the `Idempotency-Key` header.
    pub fn post(&self, url: &Secret, body: &str, key: Option<&str>) -> Answer {
        let mut req = self
            .agent
            .post(url.expose())
            .header("Content-Type", "application/json; charset=utf-8");
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let mut resp = match req.send(body) {
            Ok(r) => r,
            Err(e) => return classify_http_error(&e),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        let text = resp
            .body_mut()
            .with_config()
            .limit(4096)
            .read_to_string()
            .unwrap_or_default();
        // Only an error code such as Slack's `invalid_payload` is repeated: a longer body may
        // echo the request's path, which holds the webhook's secret.
        let t = text.trim();
        let code =
            (1..=40).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let said = if code {
            format!(": {t}")
        } else {
            String::new()
        };
        match status {
            200..=299 => Answer::Delivered,
            408 | 429 | 500..=599 => Answer::Transient {
                why: format!("HTTP {status}{said}"),
                retry_after,
            },
            300..=399 => Answer::Permanent(format!(
                "HTTP {status}: the webhook redirects, which is not followed; set its final URL"
            )),
            _ => Answer::Permanent(format!("HTTP {status}{said}")),
        }
    }
}

fn classify_http_error(e: &ureq::Error) -> Answer {
    let transient = |why: String| Answer::Transient {
        why,
        retry_after: None,
    };
    match e {
        ureq::Error::Timeout(_) => transient("timed out".into()),
        ureq::Error::Io(io) => transient(format!("connection failed: {}", io.kind())),
        ureq::Error::ConnectionFailed => transient("connection failed".into()),
        ureq::Error::HostNotFound => transient("host not found".into()),
        // Other errors are the client's or the URL's: retrying will not help. Their text is
        // scrubbed before anyone sees it.
        other => Answer::Permanent(format!("HTTP client error: {other}")),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Retries: at most this many attempts after the first, waiting 0.5 s, 1 s, 2 s, … (at most
/// 30 s) or what the server asks for with `Retry-After` (at most [`MAX_RETRY_AFTER`]).
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.min(6));
    let base = base.min(Duration::from_secs(30));
    match retry_after {
        Some(r) if r > MAX_RETRY_AFTER => None,
        Some(r) => Some(r),
        None => Some(base),
    }
}

/// A server that asks for a longer wait than this is reported, not waited for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded() {
        assert_eq!(backoff(0, None), Some(Duration::from_millis(500)));
        assert_eq!(backoff(2, None), Some(Duration::from_secs(2)));
        assert_eq!(backoff(20, None), Some(Duration::from_secs(30)));
        assert_eq!(
            backoff(0, Some(Duration::from_secs(3))),
            Some(Duration::from_secs(3))
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(600))), None);
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
