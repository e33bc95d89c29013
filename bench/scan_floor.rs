//! The floor for the scale benchmark (`bench/scale.py`): the same engine (DataFusion, built
//! with this crate's features) reading the flagship tree's files once, touching every column
//! the tree reads — its measures' columns and the eight search dimensions — with a sum over
//! each column's null test, so each is parsed (CSV) or decoded (Parquet; a bare
//! `COUNT(column)` would be answered from the file's statistics without reading it). No view, join or grouping: what any answer
//! costs at least. Run it with
//!
//!     cargo run --release --features scale-bench --bin scan_floor -- DIR csv|parquet
//!
//! It prints `query_seconds=X` (registering the files and running the three scans) and the
//! rows counted per file.

use std::time::Instant;

use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

/// Per file of `metrictree demo-data`: the columns `trees/handoff.yaml` reads.
const FILES: [(&str, &[&str]); 3] = [
    (
        "conversations",
        &[
            "conversation_id",
            "created_at",
            "resolved_at",
            "first_owner",
            "resolved_by",
            "reopened",
            "csat",
            "status",
            "handling_seconds",
            "repeat_explanation",
            "channel",
            "team",
            "category",
            "tier",
            "routing_rule",
            "queue",
        ],
    ),
    (
        "handoffs",
        &[
            "conversation_id",
            "sequence",
            "transferred_at",
            "picked_up_at",
            "receiver_first_reply_at",
            "cause",
            "topic",
            "bot_trigger",
            "accepted",
            "completed",
            "transfer_type",
            "from_team",
        ],
    ),
    ("audits", &["conversation_id", "sequence", "score"]),
];

#[allow(clippy::print_stdout)] // a benchmark reports on stdout
#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(format)) = (args.first(), args.get(1)) else {
        eprintln!("usage: scan_floor DIR csv|parquet");
        std::process::exit(2);
    };
    let t0 = Instant::now();
    let ctx = SessionContext::new();
    let mut counts = Vec::new();
    for (name, columns) in FILES {
        let path = format!("{dir}/{name}.{format}");
        match format.as_str() {
            "parquet" => {
                ctx.register_parquet(name, &path, ParquetReadOptions::default())
                    .await?
            }
            _ => {
                ctx.register_csv(name, &path, CsvReadOptions::new().has_header(true))
                    .await?
            }
        }
        let touched: Vec<String> = columns
            .iter()
            .map(|c| format!("SUM(CASE WHEN \"{c}\" IS NULL THEN 0 ELSE 1 END)"))
            .collect();
        let sql = format!("SELECT COUNT(*), {} FROM \"{name}\"", touched.join(", "));
        let batches = ctx.sql(&sql).await?.collect().await?;
        let rows = batches
            .first()
            .map(|b| {
                datafusion::arrow::array::cast::as_primitive_array::<
                    datafusion::arrow::datatypes::Int64Type,
                >(b.column(0))
                .value(0)
            })
            .unwrap_or(0);
        counts.push(format!("{name}={rows}"));
    }
    println!("query_seconds={:.3}", t0.elapsed().as_secs_f64());
    println!("{}", counts.join(" "));
    Ok(())
}
