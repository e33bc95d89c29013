//! The SQL text `metrictree load` sends to PostgreSQL: column types for a file's columns, the
//! table's `CREATE`, its `COPY ... FROM STDIN` and `ANALYZE`. Identifiers are quoted; no data
//! value ever becomes SQL (rows travel as CSV over the copy protocol).

use datafusion::arrow::datatypes::DataType;

use super::ident;

/// Whether a table of that name exists (the name is bound as the parameter `$1`, quoted as
/// [`ident`] quotes it).
pub const TABLE_EXISTS: &str = "SELECT to_regclass($1) IS NOT NULL";

/// The column type a file column becomes; `instants` for times the file writes with UTC
/// offsets (held as UTC, the session's zone).
pub fn column_type(t: &DataType, instants: bool) -> &'static str {
    if instants {
        return "TIMESTAMPTZ";
    }
    match t {
        DataType::Boolean => "BOOLEAN",
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => "BIGINT",
        DataType::UInt64 | DataType::Decimal128(..) | DataType::Decimal256(..) => "NUMERIC",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "DOUBLE PRECISION",
        DataType::Timestamp(_, None) => "TIMESTAMP",
        DataType::Timestamp(_, Some(_)) => "TIMESTAMPTZ",
        DataType::Date32 | DataType::Date64 => "DATE",
        _ => "TEXT",
    }
}

/// Drops and creates the table of a source: (column name, type) in file order.
pub fn create_table(source: &str, columns: &[(String, &str)]) -> String {
    let table = ident(source);
    let cols: Vec<String> = columns
        .iter()
        .map(|(name, ty)| format!("{} {ty}", ident(name)))
        .collect();
    format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({})",
        cols.join(", ")
    )
}

/// Rows in as CSV without a header.
pub fn copy_in(source: &str) -> String {
    format!("COPY {} FROM STDIN (FORMAT csv)", ident(source))
}

/// Fresh statistics for the planner.
pub fn analyze(source: &str) -> String {
    format!("ANALYZE {}", ident(source))
}

/// Opens and commits the one transaction all tables load in.
pub const BEGIN: &str = "BEGIN";
pub const COMMIT: &str = "COMMIT";

/// Every row of a registered source, as the file engine reads it.
pub fn select_all(source: &str) -> String {
    format!("SELECT * FROM {}", ident(source))
}
