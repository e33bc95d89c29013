//! Checks `notify:` against the rest of the tree: the owners it names exist, delegation ends
//! somewhere, and the dimensions it redacts are declared.

use crate::diag::{Diagnostic, did_you_mean};
use crate::spec::Spec;
use crate::spec::model::Located;

pub(super) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let r = &spec.notify;
    let owner_ids: Vec<&str> = spec.owners.iter().map(|o| o.id.as_str()).collect();
    let dim_ids: Vec<&str> = spec.dimensions.iter().map(|d| d.id.as_str()).collect();
    let mut owner = |o: &Located<String>, what: &str| {
        if !owner_ids.contains(&o.value.as_str()) {
            diags.push(
                Diagnostic::error("E047", format!("unknown owner `{}` {what}", o.value))
                    .at(o.pos)
                    .help(format!(
                        "{}; `notify` names owners declared under `owners:`",
                        did_you_mean(&o.value, owner_ids.iter().copied(), "owners")
                    )),
            );
        }
    };
    if let Some(f) = &r.fallback {
        owner(f, "as `fallback` in `notify`");
    }
    for (o, _) in &r.mute {
        owner(o, "under `mute` in `notify`");
    }
    for (from, to) in &r.delegate {
        owner(from, "under `delegate` in `notify`");
        owner(to, "as a delegate in `notify`");
    }
    // Delegation must end at an owner who receives: follow each chain.
    for (from, _) in &r.delegate {
        let mut seen = vec![from.value.as_str()];
        let mut at = from.value.as_str();
        while let Some((_, to)) = r.delegate.iter().find(|(f, _)| f.value == at) {
            if seen.contains(&to.value.as_str()) {
                seen.push(&to.value);
                diags.push(
                    Diagnostic::error("E047", "delegation in `notify` goes round in a circle")
                        .at(from.pos)
                        .help(format!(
                            "{}: end the chain at an owner who receives the messages",
                            seen.join(" → ")
                        )),
                );
                break;
            }
            seen.push(&to.value);
            at = &to.value;
        }
    }
    let redacted = r
        .redact
        .email
        .iter()
        .chain(&r.redact.slack)
        .chain(&r.redact.webhook);
    for d in redacted {
        if !dim_ids.contains(&d.value.as_str()) {
            diags.push(
                Diagnostic::error(
                    "E047",
                    format!("unknown dimension `{}` under `redact` in `notify`", d.value),
                )
                .at(d.pos)
                .help(did_you_mean(
                    &d.value,
                    dim_ids.iter().copied(),
                    "dimensions",
                )),
            );
        }
    }
    // Report only the first circle of each chain once.
    diags.dedup_by(|a, b| a.message == b.message && a.message.contains("circle"));
    diags
}
