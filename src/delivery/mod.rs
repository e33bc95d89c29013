//! Delivery (`metrictree notify`): owner reports pushed to the owners whose branches moved —
//! to an outbox directory, over SMTP, or to Slack and generic webhooks — exactly once.
//!
//! [`rules`] selects who is told and why (pure, from the report models); [`message`] turns
//! that into one message per owner and target, each with a stable id from its slot and its
//! content; [`run`] renders ([`mime`], [`payload`]), sends ([`outbox`], [`transport`]) and
//! records each step in the [`ledger`] before the next, so a repeated or interrupted run sends
//! exactly what is missing. Endpoints and credentials come only from the operator
//! ([`settings`]); the tree names recipients. See `docs/notify.md`.

pub mod ledger;
pub mod message;
pub mod mime;
pub mod outbox;
pub mod payload;
pub mod rules;
pub mod run;
pub mod settings;
pub mod transport;
