//! The operator's delivery settings, from the environment: where messages may go and with
//! which credentials. A tree names recipients only (see `spec::notify`); it cannot add an
//! endpoint, a credential or a domain.
//!
//! | variable | holds |
//! |---|---|
//! | `METRICTREE_SMTP_URL` | `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=starttls`, or `smtp://127.0.0.1:2525` (plain, loopback only) |
//! | `METRICTREE_SMTP_CA_FILE` | a PEM file with the CA certificate of an SMTP server whose certificate no public root signs |
//! | `METRICTREE_MAIL_FROM` | the sender address |
//! | `METRICTREE_ALLOW_DOMAINS` | recipient domains e-mail may reach, comma-separated (`*`: any) |
//! | `METRICTREE_SLACK_<KEY>`, `METRICTREE_WEBHOOK_<KEY>` | the URL of each Slack or webhook key |
//!
//! Values that are secrets are kept as [`Secret`], which never prints, and every message we
//! write passes through [`Settings::scrub`].

use std::collections::BTreeMap;
use std::fmt;

/// A value that must not appear in output, logs, files or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, usually port 465).
    Tls,
    /// STARTTLS required (`smtp://…?tls=starttls`, usually port 587).
    StartTls,
    /// No encryption: only to a loopback address (a local relay or a test server).
    Plain,
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Extra root certificates (PEM) the operator trusts for this server (an internal CA).
    pub ca_pem: Option<Vec<u8>>,
}

/// The operator's settings.
#[derive(Clone, Default)]
pub struct Settings {
    pub smtp: Option<Smtp>,
    pub from: Option<String>,
    /// `None`: not set (e-mail cannot be sent); `Some([])` never happens; `*` allows any.
    pub allow_domains: Option<Vec<String>>,
    /// The variables a Slack or webhook key may name, read once.
    targets: BTreeMap<String, Secret>,
    /// Everything to mask in text we write.
    secrets: Vec<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("smtp", &self.smtp)
            .field("from", &self.from)
            .field("allow_domains", &self.allow_domains)
            .field("targets", &self.targets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, String> {
        let mut vars = Vec::new();
        for (k, v) in std::env::vars_os() {
            let Some(k) = k.to_str() else { continue };
            if !k.starts_with("METRICTREE_") {
                continue;
            }
            // Never quote the value: it may be a secret.
            let v = v
                .into_string()
                .map_err(|_| format!("{k} is not valid UTF-8; set it again"))?;
            vars.push((k.to_string(), v));
        }
        Settings::from_vars(vars)
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Settings, String> {
        let mut s = Settings::default();
        let mut ca_file = None;
        for (k, v) in vars {
            match k.as_str() {
                "METRICTREE_SMTP_CA_FILE" => ca_file = Some(v),
                "METRICTREE_SMTP_URL" => {
                    s.secrets.push(v.clone());
                    let smtp = parse_smtp_url(&v)?;
                    if let Some(p) = &smtp.password {
                        s.secrets.push(p.0.clone());
                    }
                    s.smtp = Some(smtp);
                }
                "METRICTREE_MAIL_FROM" => {
                    let f = v.trim();
                    if !crate::spec::notify::is_address(f) {
                        return Err("METRICTREE_MAIL_FROM is not an e-mail address; set it to the sender, e.g. metrictree@example.com".into());
                    }
                    s.from = Some(f.to_string());
                }
                "METRICTREE_ALLOW_DOMAINS" => {
                    let list: Vec<String> = v
                        .split(',')
                        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
                        .filter(|d| !d.is_empty())
                        .collect();
                    if list.is_empty() {
                        return Err("METRICTREE_ALLOW_DOMAINS is empty; list the recipient domains e-mail may reach, e.g. example.com,example.org (or * for any)".into());
                    }
                    s.allow_domains = Some(list);
                }
                _ if k.starts_with("METRICTREE_SLACK_") || k.starts_with("METRICTREE_WEBHOOK_") => {
                    s.secrets.push(v.clone());
                    // A server may echo the path (its token) without the host.
                    if let Some((_, rest)) = v.split_once("://")
                        && let Some(i) = rest.find(['/', '?'])
                    {
                        s.secrets.push(rest[i..].to_string());
                    }
                    s.targets.insert(k, Secret(v));
                }
                _ => {}
            }
        }
        if let Some(path) = &ca_file {
            let smtp = s.smtp.as_mut().ok_or(
                "METRICTREE_SMTP_CA_FILE is set but METRICTREE_SMTP_URL is not; set both, or neither",
            )?;
            if smtp.security == Security::Plain {
                return Err("METRICTREE_SMTP_CA_FILE is set for an unencrypted SMTP connection; use smtps:// or ?tls=starttls".into());
            }
            // Never quote the file: only its name.
            smtp.ca_pem = Some(std::fs::read(path).map_err(|e| {
                format!("cannot read METRICTREE_SMTP_CA_FILE `{path}`: {}", e.kind())
            })?);
        }
        // Longest first, so a URL is masked whole before a part of it.
        s.secrets.retain(|x| x.len() >= 4);
        s.secrets.sort_by_key(|x| std::cmp::Reverse(x.len()));
        Ok(s)
    }

    /// The URL the operator set for a variable (`METRICTREE_WEBHOOK_<KEY>`), checked.
    pub fn target_url(&self, var: &str) -> Option<Result<&Secret, String>> {
        let u = self.targets.get(var)?;
        Some(
            check_http_url(u.expose())
                .map(|()| u)
                .map_err(|why| format!("{var} {why}")),
        )
    }

    /// Whether e-mail may go to `address` (the operator's allow-list).
    pub fn allows(&self, address: &str) -> Result<(), String> {
        let Some(list) = &self.allow_domains else {
            return Err("no recipient domains are allowed: set METRICTREE_ALLOW_DOMAINS (e.g. example.com, or * for any)".into());
        };
        let domain = address
            .rsplit('@')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let ok = list
            .iter()
            .any(|d| d == "*" || domain == *d || domain.ends_with(&format!(".{d}")));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{domain} is not in METRICTREE_ALLOW_DOMAINS; the operator adds it there if e-mail may go to it"
            ))
        }
    }

    /// `text` with every secret replaced by `•••`.
    pub fn scrub(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if t.contains(s.as_str()) {
                t = t.replace(s.as_str(), "•••");
            }
        }
        t
    }
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `smtp[s]://[user[:password]@]host[:port][?tls=starttls|none]`. Errors never quote the URL.
fn parse_smtp_url(url: &str) -> Result<Smtp, String> {
    let bad = |what: &str| {
        format!(
            "METRICTREE_SMTP_URL {what}; write e.g. smtps://user:password@mail.example.com:465 or smtp://user:password@mail.example.com:587?tls=starttls"
        )
    };
    let (scheme, rest) = url
        .trim()
        .split_once("://")
        .ok_or_else(|| bad("has no scheme"))?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let rest = rest.trim_end_matches('/');
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| bad("has a port that is not a number"))?,
            ),
        ),
        _ => (hostport, None),
    };
    if host.is_empty() || host.contains('/') {
        return Err(bad("has no host"));
    }
    let tls = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("tls="));
    let security = match (scheme.to_ascii_lowercase().as_str(), tls) {
        ("smtps", None) => Security::Tls,
        ("smtp", Some("starttls" | "required")) => Security::StartTls,
        ("smtp", None | Some("none")) => Security::Plain,
        ("smtp" | "smtps", Some(_)) => {
            return Err(bad("has an unknown tls= value (starttls or none)"));
        }
        _ => return Err(bad("does not start with smtp:// or smtps://")),
    };
    if security == Security::Plain && !is_loopback(host) {
        return Err(bad(
            "asks for an unencrypted connection to a host that is not this machine (add ?tls=starttls, or use smtps://)",
        ));
    }
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((u, p)) => (Some(decode(u)), Some(Secret(decode(p)))),
            None => (Some(decode(u)), None),
        },
        None => (None, None),
    };
    let port = port.unwrap_or(match security {
        Security::Tls => 465,
        Security::StartTls => 587,
        Security::Plain => 25,
    });
    Ok(Smtp {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        port,
        security,
        user,
        password,
        ca_pem: None,
    })
}

/// Percent-decoding for the user and password of a URL.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if b[i] == b'%'
            && let Some(v) = hex
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A webhook URL the operator set: https, or http to this machine; no user name or password.
fn check_http_url(u: &str) -> Result<(), String> {
    let (plain, rest) = if let Some(r) = u.strip_prefix("https://") {
        (false, r)
    } else if let Some(r) = u.strip_prefix("http://") {
        (true, r)
    } else {
        return Err("is not an http(s) URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty()
        || authority.contains('@')
        || u.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("is not a plain URL (a host, no user name or password, no spaces)".into());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if plain && !is_loopback(host) {
        return Err("is plain http to another machine; use https".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_vars(v.iter().map(|(a, b)| (a.to_string(), b.to_string())))
    }

    #[test]
    fn smtp_urls() {
        let s = vars(&[(
            "METRICTREE_SMTP_URL",
            "smtps://me%40x:p%3Ass@mail.example.com",
        )])
        .unwrap();
        let m = s.smtp.unwrap();
        assert_eq!(
            (m.host.as_str(), m.port, m.security),
            ("mail.example.com", 465, Security::Tls)
        );
        assert_eq!(m.user.as_deref(), Some("me@x"));
        assert_eq!(m.password.unwrap().expose(), "p:ss");
        let m = vars(&[(
            "METRICTREE_SMTP_URL",
            "smtp://u:p@mx.example.com:2587?tls=starttls",
        )])
        .unwrap()
        .smtp
        .unwrap();
        assert_eq!((m.port, m.security), (2587, Security::StartTls));
        let m = vars(&[("METRICTREE_SMTP_URL", "smtp://127.0.0.1:2525")])
            .unwrap()
            .smtp
            .unwrap();
        assert_eq!((m.port, m.security), (2525, Security::Plain));
        let e = vars(&[("METRICTREE_SMTP_URL", "smtp://u:SENTINEL@mail.example.com")]).unwrap_err();
        assert!(e.contains("unencrypted") && !e.contains("SENTINEL"), "{e}");
        let e = vars(&[("METRICTREE_SMTP_URL", "ftp://u:SENTINEL@x")]).unwrap_err();
        assert!(!e.contains("SENTINEL"), "{e}");
    }

    #[test]
    fn allow_list_and_scrub() {
        let s = vars(&[
            ("METRICTREE_ALLOW_DOMAINS", "example.com, @Example.org"),
            (
                "METRICTREE_WEBHOOK_OPS",
                "https://hooks.example.net/T/SENTINEL",
            ),
        ])
        .unwrap();
        assert!(s.allows("a@example.com").is_ok());
        assert!(s.allows("a@eu.example.org").is_ok());
        assert!(s.allows("a@evil.com").is_err());
        assert!(s.allows("a@notexample.com").is_err());
        assert_eq!(
            s.scrub("posting to https://hooks.example.net/T/SENTINEL failed"),
            "posting to ••• failed"
        );
        assert!(s.target_url("METRICTREE_WEBHOOK_OPS").unwrap().is_ok());
        assert!(s.target_url("METRICTREE_WEBHOOK_NONE").is_none());
        assert!(Settings::default().allows("a@example.com").is_err());
        let s = vars(&[
            ("METRICTREE_WEBHOOK_X", "http://hooks.example.net/x"),
            ("METRICTREE_WEBHOOK_Y", "http://127.0.0.1:1@evil.example/x"),
            ("METRICTREE_WEBHOOK_Z", "http://[::1]:8080/x"),
        ])
        .unwrap();
        assert!(s.target_url("METRICTREE_WEBHOOK_X").unwrap().is_err());
        assert!(s.target_url("METRICTREE_WEBHOOK_Y").unwrap().is_err());
        assert!(s.target_url("METRICTREE_WEBHOOK_Z").unwrap().is_ok());
        // The path alone (echoed by a server) is masked too, and Debug shows no URL.
        let s = vars(&[(
            "METRICTREE_WEBHOOK_OPS",
            "https://hooks.example.net/T/SENTINEL",
        )])
        .unwrap();
        assert_eq!(s.scrub("Cannot POST /T/SENTINEL"), "Cannot POST •••");
        assert!(!format!("{s:?}").contains("SENTINEL"));
    }
}
