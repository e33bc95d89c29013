//! Renders a whole query checked by `spec::sql_query` as SQL text, for engines that take text
//! (PostgreSQL); DataFusion plans the checked syntax tree itself.

use crate::spec::sql_query::CheckedQuery;

impl CheckedQuery {
    /// The statement as SQL text, rendered from the syntax tree (no comments, no hints).
    pub fn render(&self) -> String {
        self.statement().to_string()
    }
}
