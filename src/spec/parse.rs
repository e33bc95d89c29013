//! Builds the typed [`Spec`] from a tree file, collecting every problem on the way.
//!
//! Input: the file's path and text. Output: `Some(Spec)` when the file has the right shape
//! (names are not resolved yet), plus diagnostics: YAML syntax errors, unknown keys (with
//! suggestions), wrong value kinds, bad formulas (with the caret under the character),
//! bad time zones or grains. Whatever can still be read after a problem is read, so that one
//! run of `check` shows everything.

use std::path::{Path, PathBuf};

use chrono::TimeDelta;

use crate::diag::{Diagnostic, Pos, did_you_mean};
use crate::period::Grain;
use crate::spec::formula::{self, Expr};
use crate::spec::model::*;
use crate::spec::yaml::{self, Key, Node, Value};

const TOP_KEYS: &[&str] = &[
    "version",
    "name",
    "title",
    "description",
    "root",
    "companions",
    "grain",
    "timezone",
    "maturity",
    "owners",
    "dimensions",
    "sources",
    "nodes",
    "locale",
    "industry",
    "report_base_url",
    "notify",
    "actions",
    "players",
];
const OWNER_KEYS: &[&str] = &["name", "email", "slack", "webhook", "description"];
const DIMENSION_KEYS: &[&str] = &["label", "description"];
const SOURCE_KEYS: &[&str] = &[
    "file",
    "format",
    "sql",
    "postgres",
    "event_log",
    "time",
    "dimensions",
    "description",
    "delimiter",
    "header",
    "nulls",
    "time_format",
    "timestamps",
    "key",
    "max_bad_rows",
    "weight",
];
const POSTGRES_KEYS: &[&str] = &["url_env", "table", "query"];
const EVENT_LOG_KEYS: &[&str] = &[
    "events",
    "case",
    "time",
    "owners",
    "tiers",
    "pickup",
    "resolved",
    "causes",
    "attributes",
    "last_attributes",
    "order_by",
    "max_unclassified",
];
const CAUSE_KEYS: &[&str] = &["cause", "when"];
const NODE_KEYS: &[&str] = &[
    "label",
    "description",
    "unit",
    "owner",
    "direction",
    "target",
    "method",
    "on_zero",
    "dimensions",
    "question",
    "bands",
    "benchmark",
    "measure",
    "formula",
    "sum",
    "difference",
    "product",
    "ratio",
];
/// The keys that define a node: the last six of `NODE_KEYS`.
const DEFINITION_KEYS: &[&str] = NODE_KEYS.split_at(NODE_KEYS.len() - 6).1;
const BAND_KEYS: &[&str] = &["label", "below"];
const MEASURE_KEYS: &[&str] = &["source", "agg", "expr", "filter"];
const RATIO_KEYS: &[&str] = &["numerator", "denominator"];

/// Reads a tree file. Returns the spec (if its shape allows) and all diagnostics.
pub fn parse(path: &Path, text: &str) -> (Option<Spec>, Vec<Diagnostic>) {
    let mut p = SpecParser {
        text,
        diags: Vec::new(),
        source_ids: Vec::new(),
    };
    let root = match yaml::parse(text) {
        Ok(n) => n,
        Err(e) => {
            let dup = e.message.to_lowercase().contains("duplicate");
            let d = if dup {
                let key = e
                    .message
                    .split("duplicate mapping key: ")
                    .nth(1)
                    .map(|k| k.split(',').next().unwrap_or(k).trim().to_string())
                    .unwrap_or_default();
                Diagnostic::error("E002", format!("duplicate key `{key}`: it appears twice in the same mapping")).help(
                    "ids (owners, dimensions, sources, nodes) and keys must appear once per mapping; rename or merge one",
                )
            } else {
                Diagnostic::error("E001", format!("YAML syntax error: {}", e.message))
                    .help("fix the YAML syntax (indentation, quotes, colons) at this place")
            };
            p.diags.push(d.at_opt(e.pos));
            // For a duplicate key, read the rest (first definition wins) to report other problems.
            if !dup {
                return (None, p.diags);
            }
            let mut opts = yaml::options();
            opts.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::FirstWins;
            match yaml::parse_with(text, opts) {
                Ok(n) => n,
                Err(_) => return (None, p.diags),
            }
        }
    };
    let spec = p.spec(path, &root);
    (spec, p.diags)
}

mod actions;
mod notify;

pub use actions::parse_actions_file;

struct SpecParser<'a> {
    text: &'a str,
    diags: Vec<Diagnostic>,
    /// Every source id of the tree: the relations a SQL source may read.
    source_ids: Vec<String>,
}

/// A mapping being read: remembers which keys were used, to report the unknown ones.
struct MapReader<'n> {
    entries: &'n [(Key, Node)],
    pos: Pos,
    allowed: &'static [&'static str],
    context: String,
}

impl<'n> MapReader<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    fn key_pos(&self, key: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| k.pos)
    }
}

impl<'a> SpecParser<'a> {
    fn map<'n>(
        &mut self,
        node: &'n Node,
        allowed: &'static [&'static str],
        context: &str,
    ) -> Option<MapReader<'n>> {
        match &node.value {
            Value::Map(entries) => {
                for (k, _) in entries {
                    if !allowed.contains(&k.name.as_str()) {
                        self.diags.push(
                            Diagnostic::error(
                                "E003",
                                format!("unknown key `{}` in {context}", k.name),
                            )
                            .at(Pos::new(
                                k.pos.line,
                                k.pos.col,
                                k.name.chars().count() as u32,
                            ))
                            .help(did_you_mean(
                                &k.name,
                                allowed.iter().copied(),
                                "keys",
                            )),
                        );
                    }
                }
                Some(MapReader {
                    entries,
                    pos: node.pos,
                    allowed,
                    context: context.to_string(),
                })
            }
            Value::Null => Some(MapReader {
                entries: &[],
                pos: node.pos,
                allowed,
                context: context.to_string(),
            }),
            other => {
                self.diags.push(
                    Diagnostic::error(
                        "E004",
                        format!("{context} must be a mapping, found {}", other.kind()),
                    )
                    .at(node.pos)
                    .help(format!(
                        "write `key: value` lines; allowed keys: {}",
                        allowed.join(", ")
                    )),
                );
                None
            }
        }
    }

    fn wrong_kind(&mut self, node: &Node, what: &str, expected: &str, help: &str) {
        self.diags.push(
            Diagnostic::error(
                "E004",
                format!("{what} must be {expected}, found {}", node.value.kind()),
            )
            .at(node.pos)
            .help(help.to_string()),
        );
    }

    fn required<'n>(&mut self, m: &MapReader<'n>, key: &str, help: &str) -> Option<&'n Node> {
        debug_assert!(m.allowed.contains(&key));
        let n = m.get(key);
        if n.is_none() {
            self.diags.push(
                Diagnostic::error("E005", format!("{} needs `{key}`", m.context))
                    .at(m.pos)
                    .help(help.to_string()),
            );
        }
        n
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<Located<String>> {
        match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let s = node.as_text().unwrap_or_default();
                Some(Located::new(s, self.value_pos(node)))
            }
            _ => {
                self.wrong_kind(
                    node,
                    what,
                    "text",
                    "write it on the same line after the colon",
                );
                None
            }
        }
    }

    fn opt_text(&mut self, m: &MapReader, key: &str) -> Option<Located<String>> {
        let n = m.get(key)?;
        if matches!(n.value, Value::Null) {
            return None;
        }
        self.text(n, &format!("`{key}` in {}", m.context))
    }

    /// The position of a scalar's *content*: skips an opening quote, and underlines its text.
    fn value_pos(&self, node: &Node) -> Pos {
        let line = self
            .text
            .lines()
            .nth(node.pos.line.saturating_sub(1) as usize)
            .unwrap_or("");
        let at: Vec<char> = line
            .chars()
            .skip(node.pos.col.saturating_sub(1) as usize)
            .collect();
        let quoted = matches!(at.first(), Some('"') | Some('\''));
        let len = node
            .as_text()
            .map(|s| s.lines().next().unwrap_or("").chars().count())
            .unwrap_or(1);
        if quoted {
            Pos::new(node.pos.line, node.pos.col + 1, len as u32)
        } else if matches!(at.first(), Some('|') | Some('>')) {
            // Block scalar: content starts on the next line; point at the indicator.
            Pos::new(node.pos.line, node.pos.col, 1)
        } else {
            Pos::new(node.pos.line, node.pos.col, len as u32)
        }
    }

    fn choice<T: Copy>(
        &mut self,
        m: &MapReader,
        key: &str,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let Some(n) = m.get(key) else { return default };
        let Some(s) = self.text(n, &format!("`{key}` in {}", m.context)) else {
            return default;
        };
        match options.iter().find(|(name, _)| *name == s.value) {
            Some((_, v)) => *v,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.diags.push(
                    Diagnostic::error("E006", format!("`{}` is not a valid {key}", s.value))
                        .at(s.pos)
                        .help(format!(
                            "{} (one of: {})",
                            did_you_mean(&s.value, names.iter().copied(), "values"),
                            names.join(", ")
                        )),
                );
                default
            }
        }
    }

    fn number(&mut self, m: &MapReader, key: &str) -> Option<f64> {
        let n = m.get(key)?;
        match n.as_f64() {
            Some(v) if v.is_finite() => Some(v),
            Some(_) => {
                self.diags.push(
                    Diagnostic::error(
                        "E006",
                        format!("`{key}` in {} is not a finite number", m.context),
                    )
                    .at(n.pos)
                    .help("write a number such as 0.25; `.inf`, `.nan` and values beyond ±1.8e308 are not numbers a tree can use"),
                );
                None
            }
            None => {
                self.wrong_kind(
                    n,
                    &format!("`{key}` in {}", m.context),
                    "a number",
                    "write e.g. 0.25",
                );
                None
            }
        }
    }

    fn id_map<'n>(&mut self, node: Option<&'n Node>, what: &str) -> Vec<(&'n Key, &'n Node)> {
        let Some(node) = node else { return Vec::new() };
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .filter(|(k, _)| {
                    let ok = is_id(&k.name);
                    if !ok {
                        self.diags.push(
                            Diagnostic::error("E007", format!("`{}` is not a valid {what} id", k.name))
                                .at(Pos::new(k.pos.line, k.pos.col, k.name.chars().count() as u32))
                                .help(if k.name.chars().any(crate::text::is_hidden) {
                                    "it holds invisible or control characters (shown as `\\u{...}` escapes); retype the id with letters, digits and `_`"
                                } else {
                                    "ids are letters, digits and `_`, starting with a letter, e.g. `routing_rate`"
                                }),
                        );
                    }
                    ok
                })
                .map(|(k, v)| (k, v))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_kind(
                    node,
                    &format!("`{what}s`"),
                    "a mapping of ids",
                    &format!("write one `{what}_id:` entry per {what}"),
                );
                Vec::new()
            }
        }
    }

    fn spec(&mut self, path: &Path, root: &Node) -> Option<Spec> {
        let top = self.map(root, TOP_KEYS, "the tree file")?;
        if let Some(v) = top.get("version")
            && v.as_f64() != Some(1.0)
        {
            self.diags.push(
                Diagnostic::error("E006", "unsupported tree format version")
                    .at(v.pos)
                    .help("this metrictree reads `version: 1`"),
            );
        }
        let name = self
            .opt_text(&top, "name")
            .map(|l| l.value)
            .unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let title = self.opt_text(&top, "title").map(|l| l.value);
        let description = self.opt_text(&top, "description").map(|l| l.value);
        let root_id = self
            .required(
                &top,
                "root",
                "name the node this tree explains, e.g. `root: handoff_rate`",
            )
            .and_then(|n| self.text(n, "`root`"));
        let companions = match top.get("companions") {
            Some(n) => self.id_list(n, "`companions`"),
            None => Vec::new(),
        };
        let grain = self.choice(
            &top,
            "grain",
            &[
                ("day", Grain::Day),
                ("week", Grain::Week),
                ("month", Grain::Month),
            ],
            Grain::Week,
        );
        let timezone = match top.get("timezone") {
            None => chrono_tz::UTC,
            Some(n) => match self.text(n, "`timezone`") {
                Some(t) => match t.value.parse::<chrono_tz::Tz>() {
                    Ok(tz) => tz,
                    Err(_) => {
                        let names = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                        self.diags.push(
                            Diagnostic::error("E006", format!("unknown time zone `{}`", t.value))
                                .at(t.pos)
                                .help(format!(
                                    "use an IANA zone name such as `Europe/Berlin` or `UTC`; {}",
                                    did_you_mean(&t.value, names, "zones")
                                )),
                        );
                        chrono_tz::UTC
                    }
                },
                None => chrono_tz::UTC,
            },
        };
        let maturity = match top.get("maturity") {
            None => TimeDelta::zero(),
            Some(n) => match self.text(n, "`maturity`") {
                Some(t) => parse_duration(&t.value)
                    .filter(|d| *d >= TimeDelta::zero() && *d <= TimeDelta::days(MAX_MATURITY_DAYS))
                    .unwrap_or_else(|| {
                        self.diags.push(
                            Diagnostic::error(
                                "E006",
                                format!(
                                    "`{}` is not a duration of at most {MAX_MATURITY_DAYS} days",
                                    t.value
                                ),
                            )
                            .at(t.pos)
                            .help("write a number of days or hours, e.g. `3d`, `36h` or `0d`"),
                        );
                        TimeDelta::zero()
                    }),
                None => TimeDelta::zero(),
            },
        };

        let locale = self.choice(
            &top,
            "locale",
            &crate::spec::locale::Locale::ALL,
            Default::default(),
        );
        let industries: Vec<(&str, Option<crate::spec::targets::Industry>)> =
            crate::spec::targets::Industry::all()
                .map(|(k, i)| (k, Some(i)))
                .collect();
        let industry = self.choice(&top, "industry", &industries, None);
        let report_base_url = self.base_url(&top);
        let notify = self.notify(&top);
        let actions = self.actions(&top);
        let owners = self.id_map(top.get("owners"), "owner");
        let owners = owners
            .into_iter()
            .filter_map(|(k, v)| self.owner(k, v))
            .collect();
        let dims = self.id_map(top.get("dimensions"), "dimension");
        let dimensions = dims
            .into_iter()
            .filter_map(|(k, v)| self.dimension(k, v))
            .collect();
        let srcs = self.id_map(top.get("sources"), "source");
        self.source_ids = srcs.iter().map(|(k, _)| k.name.clone()).collect();
        let sources = srcs
            .into_iter()
            .filter_map(|(k, v)| self.source(k, v))
            .collect();
        let nodes_node = self.required(
            &top,
            "nodes",
            "declare the tree's measures and formulas under `nodes:`",
        );
        let node_entries = self.id_map(nodes_node, "node");
        let mut broken_nodes = Vec::new();
        let nodes: Vec<NodeSpec> = node_entries
            .into_iter()
            .filter_map(|(k, v)| {
                let n = self.node(k, v);
                if n.is_none() {
                    broken_nodes.push(k.name.clone());
                }
                n
            })
            .collect();

        let players = self
            .id_map(top.get("players"), "player")
            .into_iter()
            .map(|(k, v)| PlayerGroup {
                name: Located::new(
                    k.name.clone(),
                    Pos::new(k.pos.line, k.pos.col, k.name.chars().count() as u32),
                ),
                leaves: self.id_list(v, &format!("player `{}`", k.name)),
            })
            .collect();

        Some(Spec {
            path: path.to_path_buf(),
            name,
            title,
            description,
            root: root_id?,
            companions,
            grain,
            timezone,
            maturity,
            owners,
            dimensions,
            sources,
            nodes,
            broken_nodes,
            locale,
            industry,
            report_base_url,
            notify,
            actions,
            players,
        })
    }

    /// `report_base_url`: an http(s) URL without credentials (reports link to it).
    fn base_url(&mut self, m: &MapReader) -> Option<String> {
        let t = self.opt_text(m, "report_base_url")?;
        let v = t.value.trim();
        let scheme_ok = v.starts_with("https://") || v.starts_with("http://");
        let bad = v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\\\"'<>`()[]".contains(c));
        let authority = v
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        if !scheme_ok || bad || authority.is_empty() || authority.contains('@') {
            self.diags.push(
                Diagnostic::error("E045", "`report_base_url` is not a plain http(s) URL")
                    .at(t.pos)
                    .help("write the address reports are published at, e.g. `https://reports.example.com/support/`, without user names, passwords, quotes or spaces"),
            );
            return None;
        }
        Some(v.trim_end_matches('/').to_string())
    }

    /// A node's `question`, `bands` and `benchmark`.
    fn reporting(&mut self, m: &MapReader, ctx: &str, unit: Unit) -> Reporting {
        let question =
            self.opt_text(m, "question").and_then(
                |t| match crate::spec::question::Question::parse(&t.value) {
                    Ok(q) => Some(q),
                    Err(e) => {
                        let single_line = !t.value.contains('\n');
                        let pos = if single_line {
                            Pos::new(t.pos.line, t.pos.col + e.offset as u32, 1)
                        } else {
                            t.pos
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "E045",
                                format!("the question of {ctx}: {}", e.message),
                            )
                            .at(pos)
                            .help(format!(
                                "placeholders are {}; write `{{{{` or `}}}}` for a literal brace",
                                crate::spec::question::placeholder_names()
                            )),
                        );
                        None
                    }
                },
            );
        let bands = m
            .get("bands")
            .map(|n| self.bands(n, ctx))
            .unwrap_or_default();
        let benchmark = m.get("benchmark").and_then(|_| {
            let options: Vec<(&str, Option<crate::spec::targets::Benchmark>)> =
                crate::spec::targets::Benchmark::ALL
                    .iter()
                    .map(|(k, b)| (*k, Some(*b)))
                    .collect();
            let b = self.choice(m, "benchmark", &options, None)?;
            let fits = if b.in_seconds() {
                matches!(unit, Unit::Seconds)
            } else {
                matches!(unit, Unit::Percent | Unit::Ratio)
            };
            if !fits {
                self.diags.push(
                    Diagnostic::error(
                        "E045",
                        format!(
                            "{ctx} cannot carry this benchmark: its unit does not match the range"
                        ),
                    )
                    .at_opt(m.key_pos("benchmark"))
                    .help(if b.in_seconds() {
                        "average handoff time is in seconds: give the node `unit: seconds`"
                    } else {
                        "this range is a share: give the node `unit: percent`"
                    }),
                );
                return None;
            }
            Some(b)
        });
        Reporting {
            question,
            bands,
            benchmark,
        }
    }

    /// `bands:`: a list of `{label, below}` with ascending bounds; only the last may omit
    /// `below`.
    fn bands(&mut self, node: &Node, ctx: &str) -> Vec<crate::spec::targets::Band> {
        let Value::Seq(items) = &node.value else {
            self.wrong_kind(
                node,
                &format!("`bands` of {ctx}"),
                "a list",
                "write one `- {label: ..., below: ...}` per band, lowest first; the last may omit `below`",
            );
            return Vec::new();
        };
        let mut out: Vec<crate::spec::targets::Band> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let bctx = format!("band {} of {ctx}", i + 1);
            let Some(m) = self.map(item, BAND_KEYS, &bctx) else {
                continue;
            };
            let Some(label) = self
                .required(
                    &m,
                    "label",
                    "name the band, e.g. `label: balanced with specialists`",
                )
                .and_then(|n| self.text(n, &format!("`label` of {bctx}")))
            else {
                continue;
            };
            let below = self.number(&m, "below");
            let last = i + 1 == items.len();
            let problem = match (below, out.last().and_then(|b| b.below)) {
                (None, _) if !last => Some("only the last band may omit `below`"),
                (Some(b), Some(prev)) if b <= prev => {
                    Some("bands must be listed lowest first, each `below` above the previous one")
                }
                _ => None,
            };
            if let Some(why) = problem {
                self.diags.push(
                    Diagnostic::error("E045", format!("{bctx}: {why}"))
                        .at(item.pos)
                        .help("write bands lowest first, e.g. `- {label: lean, below: 0.15}` then `- {label: balanced, below: 0.3}` then `- {label: heavy}`"),
                );
                continue;
            }
            out.push(crate::spec::targets::Band {
                label: label.value,
                below,
            });
        }
        out
    }

    fn id_list(&mut self, node: &Node, what: &str) -> Vec<Located<String>> {
        match &node.value {
            Value::Seq(items) => items.iter().filter_map(|i| self.text(i, what)).collect(),
            Value::Null => Vec::new(),
            Value::Str(_) => self.text(node, what).into_iter().collect(),
            _ => {
                self.wrong_kind(
                    node,
                    what,
                    "a list of node ids",
                    "write `[a, b]` or one `- id` per line",
                );
                Vec::new()
            }
        }
    }

    fn owner(&mut self, key: &Key, node: &Node) -> Option<Owner> {
        let m = self.map(node, OWNER_KEYS, &format!("owner `{}`", key.name))?;
        let get = |p: &mut Self, k: &str| p.opt_text(&m, k).map(|l| l.value);
        let name = get(self, "name").unwrap_or_else(|| key.name.clone());
        let email = get(self, "email");
        let slack = self.target_key(&m, "slack", &key.name);
        let webhook = self.target_key(&m, "webhook", &key.name);
        let _ = get(self, "description");
        if let Some(e) = &email
            && !crate::spec::notify::is_address(e)
            && let Some(p) = m.get("email")
        {
            self.diags.push(
                Diagnostic::error("E006", format!("`{e}` is not an e-mail address"))
                    .at(self.value_pos(p))
                    .subject(format!("owner `{}`", key.name))
                    .help("write one address such as `support-ops@example.com`: ASCII, no spaces, commas or brackets (one recipient per owner)"),
            );
        }
        Some(Owner {
            id: key.name.clone(),
            pos: key.pos,
            name,
            email,
            slack,
            webhook,
        })
    }

    fn dimension(&mut self, key: &Key, node: &Node) -> Option<Dimension> {
        let m = self.map(node, DIMENSION_KEYS, &format!("dimension `{}`", key.name))?;
        let label = self
            .opt_text(&m, "label")
            .map(|l| l.value)
            .unwrap_or_else(|| key.name.clone());
        let description = self.opt_text(&m, "description").map(|l| l.value);
        Some(Dimension {
            id: key.name.clone(),
            pos: key.pos,
            label,
            description,
        })
    }

    fn source(&mut self, key: &Key, node: &Node) -> Option<Source> {
        let ctx = format!("source `{}`", key.name);
        let m = self.map(node, SOURCE_KEYS, &ctx)?;
        let _ = self.opt_text(&m, "description");
        let file = self.opt_text(&m, "file");
        let sql = self.opt_text(&m, "sql");
        let postgres = m.get("postgres");
        let event_log = m.get("event_log");
        let given: Vec<&str> = [
            ("file", file.is_some()),
            ("sql", sql.is_some()),
            ("postgres", postgres.is_some()),
            ("event_log", event_log.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| *k)
        .collect();
        if given.len() > 1 {
            self.diags.push(
                Diagnostic::error(
                    "E008",
                    format!("{ctx} has both `{}` and `{}`", given[0], given[1]),
                )
                .at_opt(m.key_pos(given[1]))
                .help("a source is a data file, a SQL query over other sources, or a PostgreSQL table or query; keep one"),
            );
            return None;
        }
        let kind = match (file, sql) {
            _ if postgres.is_some() => self.postgres(postgres?, &ctx)?,
            _ if event_log.is_some() => {
                SourceKind::EventLog(Box::new(self.event_log(event_log?, &ctx)?))
            }
            (None, None) => {
                self.diags.push(
                    Diagnostic::error("E005", format!("{ctx} needs `file`, `sql` or `postgres`"))
                        .at(key.pos)
                        .help("add `file: data/conversations.csv` (CSV, Parquet or JSON lines), `sql: SELECT ... FROM other_source` or `postgres: {url_env: DATABASE_URL, table: conversations}`"),
                );
                return None;
            }
            (Some(_), Some(_)) => return None,
            (Some(f), None) => {
                let ext = Path::new(&f.value)
                    .extension()
                    .map(|e| e.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                let guessed = match ext.as_str() {
                    "parquet" | "pq" => FileFormat::Parquet,
                    "json" | "jsonl" | "ndjson" => FileFormat::Json,
                    _ => FileFormat::Csv,
                };
                let format = self.choice(
                    &m,
                    "format",
                    &[
                        ("csv", FileFormat::Csv),
                        ("parquet", FileFormat::Parquet),
                        ("json", FileFormat::Json),
                    ],
                    guessed,
                );
                let delimiter = match self.opt_text(&m, "delimiter") {
                    None => b',',
                    Some(d) => {
                        let s = if d.value == "\\t" || d.value == "tab" {
                            "\t".to_string()
                        } else {
                            d.value.clone()
                        };
                        if s.len() == 1 {
                            s.as_bytes()[0]
                        } else {
                            self.diags.push(
                                Diagnostic::error(
                                    "E006",
                                    format!("delimiter `{}` is not one character", d.value),
                                )
                                .at(d.pos)
                                .help("write `,`, `;`, `|` or `tab`"),
                            );
                            b','
                        }
                    }
                };
                let has_header = match m.get("header") {
                    None => true,
                    Some(n) => match n.value {
                        Value::Bool(b) => b,
                        _ => {
                            self.wrong_kind(
                                n,
                                "`header`",
                                "true or false",
                                "write `header: false` when the file has no header row",
                            );
                            true
                        }
                    },
                };
                let list = |p: &mut Self, key: &str| match m.get(key) {
                    Some(n) => p.id_list(n, &format!("`{key}` in {ctx}")),
                    None => Vec::new(),
                };
                let csv = CsvOptions {
                    detect_delimiter: m.get("delimiter").is_none(),
                    nulls: list(self, "nulls").into_iter().map(|l| l.value).collect(),
                    time_format: self.opt_text(&m, "time_format"),
                    timestamps: list(self, "timestamps"),
                    key: list(self, "key"),
                    max_bad_rows: self.number(&m, "max_bad_rows").and_then(|v| {
                        if v >= 0.0 && (v < 1.0 || (v.fract() == 0.0 && v <= 1e15)) {
                            return Some(v);
                        }
                        self.diags.push(
                            Diagnostic::error("E006", format!("`max_bad_rows` in {ctx} is {v}, not a share or a count"))
                                .at_opt(m.key_pos("max_bad_rows"))
                                .help("write a share from 0 to 1 (0.01 = 1 % of the rows) or a whole number of rows, e.g. 50"),
                        );
                        None
                    }),
                };
                if let Some(f) = &csv.time_format
                    && crate::spec::time_format::TimeFormat::parse(&f.value).is_none()
                {
                    self.diags.push(
                        Diagnostic::error("E006", format!("`time_format` `{}` in {ctx} is not a known format", f.value))
                            .at(f.pos)
                            .help("write iso, day_first, month_first, epoch_seconds, epoch_millis, or a chrono pattern with %Y, %m, %d (e.g. `%d.%m.%Y %H:%M`)"),
                    );
                }
                SourceKind::File {
                    path: Located::new(PathBuf::from(f.value), f.pos),
                    format,
                    delimiter,
                    has_header,
                    csv: Box::new(csv),
                }
            }
            (None, Some(q)) => {
                let ids = self.source_ids.clone();
                self.check_query(&q, &ctx, crate::spec::sql_query::Scope::Sources(&ids));
                SourceKind::Sql { query: q }
            }
        };
        // An event log's cases are placed by their first event unless `time` says otherwise.
        let time = match (&kind, m.get("time")) {
            (SourceKind::EventLog(_), None) => Some(Located::new("opened_at".to_string(), key.pos)),
            _ => self
                .required(
                    &m,
                    "time",
                    "name the column that places each row in a period, e.g. `time: created_at`",
                )
                .and_then(|n| self.text(n, &format!("`time` in {ctx}"))),
        };
        let mut dimensions = Vec::new();
        if let Some(d) = m.get("dimensions") {
            match &d.value {
                Value::Map(entries) => {
                    for (k, v) in entries {
                        if let Some(col) = self.text(v, &format!("dimension `{}` in {ctx}", k.name))
                        {
                            let kp = Pos::new(k.pos.line, k.pos.col, k.name.chars().count() as u32);
                            dimensions.push((Located::new(k.name.clone(), kp), col));
                        }
                    }
                }
                Value::Seq(items) => {
                    // `[channel, team]`: dimension names equal to column names.
                    for i in items {
                        if let Some(t) = self.text(i, &format!("dimensions of {ctx}")) {
                            dimensions.push((t.clone(), t));
                        }
                    }
                }
                Value::Null => {}
                _ => self.wrong_kind(
                    d,
                    &format!("`dimensions` in {ctx}"),
                    "a mapping",
                    "write `dimension_id: column_name` lines",
                ),
            }
        }
        let weight = self.opt_text(&m, "weight");
        if let (Some(w), SourceKind::EventLog(_)) = (&weight, &kind) {
            self.diags.push(
                Diagnostic::error("E008", format!("{ctx} is an event log and cannot have a `weight`"))
                    .at(w.pos)
                    .help("an event log's cases are counted one by one; weigh a pre-aggregated table in a `file`, `sql` or `postgres` source"),
            );
        }
        Some(Source {
            id: key.name.clone(),
            pos: key.pos,
            kind,
            time: time?,
            dimensions,
            weight,
        })
    }

    /// A source's query must be one read-only SELECT over what `scope` allows (see
    /// `sql_query::check_query`).
    fn check_query(
        &mut self,
        q: &Located<String>,
        ctx: &str,
        scope: crate::spec::sql_query::Scope<'_>,
    ) {
        if let Err(r) = crate::spec::sql_query::check_query(&q.value, scope) {
            self.diags.push(
                Diagnostic::error(
                    "E036",
                    format!("the query of {ctx} is not allowed: {}", r.message),
                )
                .at(q.pos)
                .help(r.help),
            );
        }
    }

    /// `event_log: {events, case, time, owners: {team: col, ...}, tiers, pickup, resolved,
    /// causes: [{cause, when}], attributes}`.
    fn event_log(&mut self, node: &Node, ctx: &str) -> Option<EventLog> {
        let ectx = format!("`event_log` in {ctx}");
        let m = self.map(node, EVENT_LOG_KEYS, &ectx)?;
        let need = |p: &mut Self, key: &str, help: &str| {
            p.required(&m, key, help)
                .and_then(|n| p.text(n, &format!("`{key}` in {ectx}")))
        };
        let events = need(
            self,
            "events",
            "name the source that holds one row per event, e.g. `events: ticket_events`",
        );
        let case = need(
            self,
            "case",
            "name the case id column, e.g. `case: ticket_id`",
        );
        let time = need(
            self,
            "time",
            "name the event time column, e.g. `time: changed_at`",
        );
        let mut owners = Vec::new();
        match m.get("owners").map(|n| &n.value) {
            Some(Value::Map(entries)) => {
                for (k, v) in entries {
                    match OwnerLevel::ALL.iter().find(|(n, _)| *n == k.name) {
                        Some((_, level)) => {
                            if let Some(col) =
                                self.text(v, &format!("owner level `{}` in {ectx}", k.name))
                            {
                                owners.push((*level, col));
                            }
                        }
                        None => self.diags.push(
                            Diagnostic::error(
                                "E006",
                                format!("unknown owner level `{}` in {ectx}", k.name),
                            )
                            .at(k.pos)
                            .help(did_you_mean(
                                &k.name,
                                OwnerLevel::ALL.iter().map(|(n, _)| *n),
                                "owner levels",
                            )),
                        ),
                    }
                }
            }
            _ => {
                self.diags.push(
                    Diagnostic::error("E005", format!("{ectx} needs `owners`"))
                        .at(m.pos)
                        .help("map owner levels to columns: `owners: {team: assigned_group, agent: assignee, tier: level, channel: via}` (any subset)"),
                );
                return None;
            }
        }
        owners.sort_by_key(|(l, _)| *l);
        let tiers = match m.get("tiers") {
            Some(n) => self.id_list(n, &format!("`tiers` in {ectx}")),
            None => Vec::new(),
        };
        let has_tier = owners.iter().any(|(l, _)| *l == OwnerLevel::Tier);
        if has_tier && tiers.len() < 2 {
            self.diags.push(
                Diagnostic::error("E005", format!("{ectx} maps a tier column but lists no `tiers` order"))
                    .at(m.pos)
                    .help("list the tier values from lowest to highest, e.g. `tiers: [L1, L2, L3]`: a move up is an escalation"),
            );
        }
        let pickup = self.opt_text(&m, "pickup");
        let resolved = self.opt_text(&m, "resolved");
        let mut causes = Vec::new();
        if let Some(n) = m.get("causes") {
            match &n.value {
                Value::Seq(items) => {
                    for item in items {
                        let Some(c) =
                            self.map(item, CAUSE_KEYS, &format!("a cause rule in {ectx}"))
                        else {
                            continue;
                        };
                        let cause = self
                            .required(&c, "cause", "name the cause, e.g. `cause: routing`")
                            .and_then(|n| self.text(n, "`cause`"));
                        let when = self
                            .required(&c, "when", "give the condition, e.g. `when: tier_up`")
                            .and_then(|n| self.text(n, "`when`"));
                        if let (Some(cause), Some(when)) = (cause, when) {
                            causes.push((cause, when));
                        }
                    }
                }
                _ => self.wrong_kind(
                    n,
                    &format!("`causes` in {ectx}"),
                    "a list",
                    "write `causes:` then lines `- {cause: escalation, when: tier_up}`",
                ),
            }
        }
        let attributes = match m.get("attributes") {
            Some(n) => self.id_list(n, &format!("`attributes` in {ectx}")),
            None => Vec::new(),
        };
        let last_attributes = match m.get("last_attributes") {
            Some(n) => self.id_list(n, &format!("`last_attributes` in {ectx}")),
            None => Vec::new(),
        };
        let order_by = match m.get("order_by") {
            Some(n) => self.id_list(n, &format!("`order_by` in {ectx}")),
            None => Vec::new(),
        };
        let max_unclassified = match self.number(&m, "max_unclassified") {
            Some(v) if (0.0..=1.0).contains(&v) => v,
            Some(v) => {
                if let Some(n) = m.get("max_unclassified") {
                    self.diags.push(
                        Diagnostic::error(
                            "E006",
                            format!("`max_unclassified` in {ectx} is {v}, not a share"),
                        )
                        .at(n.pos)
                        .help("give the share of transfers that may match no cause rule, from 0 to 1, e.g. `max_unclassified: 0.1`"),
                    );
                }
                EventLog::DEFAULT_MAX_UNCLASSIFIED
            }
            None => EventLog::DEFAULT_MAX_UNCLASSIFIED,
        };
        let el = EventLog {
            max_unclassified,
            events: events?,
            case: case?,
            time: time?,
            owners,
            tiers,
            pickup,
            resolved,
            causes,
            attributes,
            last_attributes,
            order_by,
        };
        self.check_event_log(&el, &ectx);
        Some(el)
    }

    /// Conditions of an event log: allowed SQL; cause rules over the transfer's variables.
    fn check_event_log(&mut self, el: &EventLog, ectx: &str) {
        use crate::spec::sql_expr::parse_expr;
        for (what, cond) in [("pickup", &el.pickup), ("resolved", &el.resolved)] {
            if let Some(c) = cond
                && let Err(r) = parse_expr(&c.value)
            {
                self.diags.push(
                    Diagnostic::error(
                        "E036",
                        format!("`{what}` in {ectx} is not allowed: {}", r.message),
                    )
                    .at(c.pos)
                    .help(r.help),
                );
            }
        }
        let reserved = crate::spec::event_log::reserved_names(el);
        let outputs = el.attributes.iter().map(|a| (a, a.value.clone())).chain(
            el.last_attributes
                .iter()
                .map(|a| (a, crate::spec::event_log::last_attribute(&a.value))),
        );
        for (a, name) in outputs {
            if reserved.contains(&name.to_lowercase()) {
                self.diags.push(
                    Diagnostic::error(
                        "E006",
                        format!("attribute `{}` in {ectx} would be `{name}`, a name the derivation uses itself", a.value),
                    )
                    .at(a.pos)
                    .help(format!(
                        "rename the column in a SQL source over the events (`SELECT ..., {0} AS {0}_attr FROM ...`); reserved names: {1}",
                        a.value,
                        reserved.iter().cloned().collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
        let mut vars = crate::spec::event_log::rule_variables(el);
        vars.extend(el.attributes.iter().map(|a| a.value.clone()));
        for (cause, when) in &el.causes {
            if !is_id(&cause.value) {
                self.diags.push(
                    Diagnostic::error("E007", format!("cause `{}` in {ectx} is not a valid id", cause.value))
                        .at(cause.pos)
                        .help("a cause is a letter, then letters, digits or _ (it names a column `<cause>_transfers`)"),
                );
            }
            match parse_expr(&when.value) {
                Err(r) => self.diags.push(
                    Diagnostic::error(
                        "E036",
                        format!(
                            "the rule for cause `{}` is not allowed: {}",
                            cause.value, r.message
                        ),
                    )
                    .at(when.pos)
                    .help(r.help),
                ),
                Ok(e) => {
                    for c in e.columns() {
                        if !vars.iter().any(|v| v == c) {
                            self.diags.push(
                                Diagnostic::error("E031", format!("the rule for cause `{}` uses `{c}`, which a transfer does not have", cause.value))
                                    .at(when.pos)
                                    .help(format!(
                                        "{} (a rule sees {})",
                                        did_you_mean(c, vars.iter().map(String::as_str), "variables"),
                                        vars.join(", ")
                                    )),
                            );
                        }
                    }
                }
            }
        }
    }

    /// `postgres: {url_env: NAME, table: schema.table}` or `{url_env: NAME, query: SELECT ...}`.
    fn postgres(&mut self, node: &Node, ctx: &str) -> Option<SourceKind> {
        let pctx = format!("`postgres` in {ctx}");
        let m = self.map(node, POSTGRES_KEYS, &pctx)?;
        let url_env = self
            .required(
                &m,
                "url_env",
                "name the environment variable that holds the connection string, e.g. `url_env: SUPPORT_DATABASE_URL`",
            )
            .and_then(|n| self.text(n, &format!("`url_env` in {pctx}")))?;
        if !is_env_name(&url_env.value) {
            // Never echo the value: it may be the secret itself.
            self.diags.push(
                Diagnostic::error(
                    "E037",
                    format!("`url_env` in {ctx} is not an environment variable name"),
                )
                .at(url_env.pos)
                .secret()
                .help("put the connection string in an environment variable (`export SUPPORT_DATABASE_URL=postgres://...`) and write its name here; a tree in git must not hold the secret"),
            );
            return None;
        }
        let relation = match (self.opt_text(&m, "table"), self.opt_text(&m, "query")) {
            (Some(t), None) => Relation::Table(t),
            (None, Some(q)) => {
                self.check_query(&q, ctx, crate::spec::sql_query::Scope::Database);
                Relation::Query(q)
            }
            (Some(_), Some(_)) => {
                self.diags.push(
                    Diagnostic::error("E008", format!("{pctx} has both `table` and `query`"))
                        .at_opt(m.key_pos("query"))
                        .help("read a table (`table: support.conversations`) or run one query; keep one"),
                );
                return None;
            }
            (None, None) => {
                self.diags.push(
                    Diagnostic::error("E005", format!("{pctx} needs `table` or `query`"))
                        .at(m.pos)
                        .help("add `table: conversations` (or `schema.table`), or `query: SELECT ...`"),
                );
                return None;
            }
        };
        Some(SourceKind::Postgres { url_env, relation })
    }

    fn node(&mut self, key: &Key, node: &Node) -> Option<NodeSpec> {
        let ctx = format!("node `{}`", key.name);
        let m = self.map(node, NODE_KEYS, &ctx)?;
        let label = self
            .opt_text(&m, "label")
            .map(|l| l.value)
            .unwrap_or_else(|| key.name.replace('_', " "));
        let description = self.opt_text(&m, "description").map(|l| l.value);
        let unit = self.choice(
            &m,
            "unit",
            &[
                ("count", Unit::Count),
                ("number", Unit::Number),
                ("percent", Unit::Percent),
                ("ratio", Unit::Ratio),
                ("seconds", Unit::Seconds),
                ("hours", Unit::Hours),
            ],
            Unit::Number,
        );
        let owner = self.opt_text(&m, "owner");
        let direction = self.choice(
            &m,
            "direction",
            &[
                ("higher_is_better", Direction::HigherIsBetter),
                ("lower_is_better", Direction::LowerIsBetter),
                ("neutral", Direction::Neutral),
            ],
            Direction::Neutral,
        );
        let target = self.number(&m, "target");
        let method = self.choice(
            &m,
            "method",
            &[
                ("auto", Method::Auto),
                ("shapley", Method::Shapley),
                ("aumann_shapley", Method::AumannShapley),
                ("lmdi", Method::Lmdi),
            ],
            Method::Auto,
        );
        let on_zero = self.number(&m, "on_zero");
        let dimensions = match m.get("dimensions") {
            Some(n) => self.id_list(n, &format!("`dimensions` of {ctx}")),
            None => Vec::new(),
        };
        let reporting = self.reporting(&m, &ctx, unit);
        let defs: Vec<&str> = DEFINITION_KEYS
            .iter()
            .copied()
            .filter(|k| m.get(k).is_some())
            .collect();
        let kind = match defs.as_slice() {
            [] => {
                self.diags.push(
                    Diagnostic::error("E005", format!("{ctx} has no definition"))
                        .at(key.pos)
                        .help("give it one of `measure`, `formula`, `sum`, `difference`, `product` or `ratio`"),
                );
                return None;
            }
            [one] => {
                let def = m.get(one)?;
                match *one {
                    "measure" => NodeKind::Measure(self.measure(def, &key.name)?),
                    other => NodeKind::Formula(self.formula(other, def, &key.name)?),
                }
            }
            many => {
                self.diags.push(
                    Diagnostic::error(
                        "E008",
                        format!("{ctx} has several definitions: {}", many.join(", ")),
                    )
                    .at_opt(m.key_pos(many[1]))
                    .help("a node is one measure or one formula; keep one definition"),
                );
                return None;
            }
        };
        if on_zero.is_some()
            && !matches!(&kind, NodeKind::Formula(f) if matches!(f.expr, Expr::Div(..)))
        {
            self.diags.push(
                Diagnostic::error("E008", "`on_zero` only applies to ratios")
                    .at_opt(m.key_pos("on_zero"))
                    .subject(ctx.clone())
                    .help("remove `on_zero`, or define the node as `ratio:` or a formula `a / b`"),
            );
        }
        Some(NodeSpec {
            id: key.name.clone(),
            pos: Pos::new(key.pos.line, key.pos.col, key.name.chars().count() as u32),
            label,
            description,
            unit,
            owner,
            direction,
            target,
            method,
            on_zero,
            dimensions,
            kind,
            reporting,
        })
    }

    fn measure(&mut self, def: &Node, id: &str) -> Option<Measure> {
        let ctx = format!("the measure of node `{id}`");
        let m = self.map(def, MEASURE_KEYS, &ctx)?;
        let source = self
            .required(
                &m,
                "source",
                "name the source to aggregate, e.g. `source: conversations`",
            )
            .and_then(|n| self.text(n, "`source`"));
        let agg = self.choice(&m, "agg", &Agg::ALL, Agg::Count);
        let agg_given = m.get("agg").is_some();
        let expr = self.opt_text(&m, "expr");
        let filter = self.opt_text(&m, "filter");
        if !agg_given {
            self.diags.push(
                Diagnostic::error("E005", format!("{ctx} needs `agg`"))
                    .at(m.pos)
                    .help("add `agg:` with one of count, count_distinct, sum, mean, min, max"),
            );
        }
        if expr.is_none() && !matches!(agg, Agg::Count) {
            self.diags.push(
                Diagnostic::error(
                    "E005",
                    format!("`agg: {}` in {ctx} needs `expr`", agg.name()),
                )
                .at_opt(m.key_pos("agg"))
                .help("add `expr:` with the column (or SQL expression) to aggregate"),
            );
            return None;
        }
        Some(Measure {
            source: source?,
            agg,
            expr,
            filter,
        })
    }

    fn formula(&mut self, written_as: &str, def: &Node, id: &str) -> Option<Formula> {
        let written_as: &'static str = DEFINITION_KEYS
            .iter()
            .find(|k| **k == written_as)
            .copied()?;
        let ctx = format!("`{written_as}` of node `{id}`");
        let reference = |p: &mut Self, n: &Node| -> Option<(Expr, Pos)> {
            let t = p.text(n, &ctx)?;
            if !is_id(&t.value) {
                p.diags.push(
                    Diagnostic::error("E007", format!("`{}` is not a node id", t.value))
                        .at(t.pos)
                        .help(format!("list node ids here; write arithmetic with `formula:` instead of `{written_as}:`")),
                );
                return None;
            }
            let len = t.value.chars().count();
            Some((
                Expr::Ref {
                    name: t.value,
                    offset: 0,
                    len,
                    input: usize::MAX,
                },
                t.pos,
            ))
        };
        let list = |p: &mut Self, n: &Node, min: usize| -> Option<(Vec<Expr>, Vec<Pos>)> {
            let Value::Seq(items) = &n.value else {
                p.wrong_kind(n, &ctx, "a list of node ids", "write `[a, b]`");
                return None;
            };
            if items.len() < min {
                p.diags.push(
                    Diagnostic::error("E008", format!("{ctx} needs at least {min} inputs"))
                        .at(n.pos)
                        .help("list the node ids it combines"),
                );
                return None;
            }
            let parts: Vec<(Expr, Pos)> = items.iter().filter_map(|i| reference(p, i)).collect();
            (parts.len() == items.len()).then(|| parts.into_iter().unzip())
        };
        let (expr, ref_positions) = match written_as {
            "formula" => {
                let t = self.text(def, &ctx)?;
                match formula::parse(&t.value) {
                    Ok(e) => {
                        let positions = e
                            .refs()
                            .iter()
                            .map(|r| match r {
                                Expr::Ref { offset, len, .. } => {
                                    t.pos.shifted(*offset as u32, *len as u32)
                                }
                                _ => t.pos,
                            })
                            .collect();
                        (e, positions)
                    }
                    Err(e) => {
                        let block = t.pos.len == 1 && t.value.chars().count() != 1;
                        let pos = if block || t.value.contains('\n') {
                            t.pos
                        } else {
                            t.pos.shifted(e.offset as u32, e.len as u32)
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "E009",
                                format!("formula of node `{id}`: {}", e.message),
                            )
                            .at(pos)
                            .subject(format!("node `{id}`"))
                            .help(e.help),
                        );
                        return None;
                    }
                }
            }
            "sum" => {
                let (xs, ps) = list(self, def, 1)?;
                (formula::flatten_add(xs), ps)
            }
            "product" => {
                let (xs, ps) = list(self, def, 1)?;
                (formula::flatten_mul(xs), ps)
            }
            "difference" => {
                let (mut xs, ps) = list(self, def, 2)?;
                if xs.len() != 2 {
                    self.diags.push(
                        Diagnostic::error(
                            "E008",
                            format!("{ctx} takes exactly two inputs: [minuend, subtrahend]"),
                        )
                        .at(def.pos)
                        .help("for more terms use `formula: a - b - c`"),
                    );
                    return None;
                }
                let b = xs.pop()?;
                let a = xs.pop()?;
                (formula::flatten_add(vec![a, Expr::Neg(Box::new(b))]), ps)
            }
            "ratio" => {
                let (num, den) = match &def.value {
                    Value::Seq(items) if items.len() == 2 => {
                        (reference(self, &items[0])?, reference(self, &items[1])?)
                    }
                    Value::Map(_) => {
                        let rm = self.map(def, RATIO_KEYS, &ctx)?;
                        let n = self.required(&rm, "numerator", "name the numerator node");
                        let d = self.required(&rm, "denominator", "name the denominator node");
                        let n = n.and_then(|n| reference(self, n));
                        let d = d.and_then(|d| reference(self, d));
                        (n?, d?)
                    }
                    _ => {
                        self.wrong_kind(
                            def,
                            &ctx,
                            "`{numerator: a, denominator: b}` or `[a, b]`",
                            "name the numerator and the denominator nodes",
                        );
                        return None;
                    }
                };
                (
                    Expr::Div(Box::new(num.0), Box::new(den.0)),
                    vec![num.1, den.1],
                )
            }
            _ => return None,
        };
        Some(Formula {
            written_as,
            expr,
            pos: def.pos,
            ref_positions,
        })
    }
}

/// `3d`, `36h`, `90m`, `0`, `2w` → a duration.
/// The longest `maturity` a tree may declare.
pub const MAX_MATURITY_DAYS: i64 = 366;

pub fn parse_duration(s: &str) -> Option<TimeDelta> {
    let s = s.trim();
    if s == "0" {
        return Some(TimeDelta::zero());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    match unit.trim() {
        "d" | "day" | "days" => TimeDelta::try_days(n),
        "h" | "hour" | "hours" => TimeDelta::try_hours(n),
        "m" | "min" | "minutes" => TimeDelta::try_minutes(n),
        "w" | "week" | "weeks" => TimeDelta::try_weeks(n),
        _ => None,
    }
}

/// Ids: a letter, then letters, digits or `_`.
pub fn is_id(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_alphabetic()) && cs.all(|c| c.is_alphanumeric() || c == '_')
}

/// Whether `s` can name an environment variable (letters, digits, `_`; not a digit first).
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_keys_are_the_tail_of_node_keys() {
        assert_eq!(
            DEFINITION_KEYS,
            [
                "measure",
                "formula",
                "sum",
                "difference",
                "product",
                "ratio"
            ]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3d"), TimeDelta::try_days(3));
        assert_eq!(parse_duration("36h"), TimeDelta::try_hours(36));
        assert_eq!(parse_duration("0"), Some(TimeDelta::zero()));
        assert_eq!(parse_duration("3x"), None);
    }
}
