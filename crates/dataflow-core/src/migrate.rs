//! Table creation on `register`. The migrations issue extends this module into full plans;
//! [`ensure_table`] stays the one entry point the registry calls.

use dataflow_sql::{Dialect, ModelSchema, Result};

use crate::db::pool::Conn;

/// Creates the model's table and indexes if they are missing (`CREATE ... IF NOT EXISTS`).
pub(crate) async fn ensure_table(conn: &mut Conn<'_>, schema: &ModelSchema, dialect: Dialect) -> Result<()> {
    for sql in dataflow_sql::ddl::create_table(schema, dialect) {
        tracing::debug!(target: "dataflow::migrate", model = %schema.name, %sql, "ensure table");
        conn.execute_raw(&sql, Some(schema)).await.map_err(|e| e.or_model(&schema.name))?;
    }
    Ok(())
}
