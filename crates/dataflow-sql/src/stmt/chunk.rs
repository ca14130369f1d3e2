//! Chunk sizing for multi-row statements.
//!
//! Two limits apply: the number of bind parameters per statement
//! ([`Dialect::max_bind_params`]: PostgreSQL 65535, MySQL 65535, SQLite 32766) and, on
//! MySQL/MariaDB, the size of one packet (`max_allowed_packet`). The server's packet limit is
//! not known here, so MySQL chunks are also cut at [`MYSQL_PACKET_BUDGET`] estimated bytes —
//! a quarter of MariaDB's default (16 MiB) and equal to the oldest default still met (MySQL
//! 5.7: 4 MiB), leaving room for the protocol overhead our estimate does not count.

use std::ops::Range;

use crate::Dialect;
use crate::value::Value;

/// The byte budget of one MySQL/MariaDB multi-row statement (SQL text + bound values).
pub const MYSQL_PACKET_BUDGET: usize = 4 * 1024 * 1024;

/// Rows per multi-row chunk so that `rows * params_per_row` stays within the dialect's bind
/// limit. At least 1; with no parameters per row, the bind limit itself.
pub fn rows_per_chunk(dialect: Dialect, params_per_row: usize) -> usize {
    let max = dialect.max_bind_params();
    max.checked_div(params_per_row).map_or(max, |r| r.max(1))
}

/// An estimate of the bytes a value occupies in a MySQL COM_STMT_EXECUTE packet.
fn estimate(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 1,
        Value::I32(_) => 4,
        Value::I64(_) | Value::F64(_) => 8,
        Value::String(s) => s.len() + 9,
        Value::DateTime(_) => 12,
        Value::Date(_) => 5,
        Value::Uuid(_) => 37,
        Value::Decimal(_) => 40,
        Value::Json(j) => j.to_string().len() + 9,
        Value::Array(_) => v.to_json().to_string().len() + 9,
        Value::Bytes(b) => b.len() + 9,
    }
}

/// Splits `rows` into consecutive ranges: at most [`rows_per_chunk`] rows, at most
/// `batch_size` rows (when given, and non-zero), and on MySQL at most
/// [`MYSQL_PACKET_BUDGET`] estimated bytes (a single larger row gets a chunk of its own).
/// `extra_params` are bound per row besides the row's values (managed columns).
pub(crate) fn chunk_ranges(
    dialect: Dialect,
    rows: &[Vec<Value>],
    extra_params: usize,
    batch_size: Option<usize>,
) -> Vec<Range<usize>> {
    let params_per_row = rows.first().map_or(0, Vec::len) + extra_params;
    let mut max_rows = rows_per_chunk(dialect, params_per_row);
    if let Some(b) = batch_size.filter(|b| *b > 0) {
        max_rows = max_rows.min(b);
    }
    let budget = dialect.backend().statement_byte_budget();
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, row) in rows.iter().enumerate() {
        let row_bytes = if budget.is_some() {
            row.iter().map(estimate).sum::<usize>() + extra_params * 12 + params_per_row * 3 + 4
        } else {
            0
        };
        let full = i - start >= max_rows || (i > start && budget.is_some_and(|b| bytes + row_bytes > b));
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += row_bytes;
    }
    if start < rows.len() {
        out.push(start..rows.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_per_chunk_at_each_dialect_limit() {
        for d in Dialect::ALL {
            let max = d.max_bind_params();
            // One parameter per row: the limit itself.
            assert_eq!(rows_per_chunk(d, 1), max, "{d}");
            // Exactly at the limit: one row of `max` parameters fits.
            assert_eq!(rows_per_chunk(d, max), 1, "{d}");
            // One over: still one row per statement (the database reports the error).
            assert_eq!(rows_per_chunk(d, max + 1), 1, "{d}");
            // A divisor: exactly max / p rows, and one more row would be over the limit.
            for p in [3usize, 7, 10, 33] {
                let r = rows_per_chunk(d, p);
                assert!(r * p <= max, "{d} {p}");
                assert!((r + 1) * p > max, "{d} {p}");
            }
            assert_eq!(rows_per_chunk(d, 0), max);
        }
        assert_eq!(rows_per_chunk(Dialect::Postgres, 5), 13_107);
        assert_eq!(rows_per_chunk(Dialect::MySql, 5), 13_107);
        assert_eq!(rows_per_chunk(Dialect::Sqlite, 5), 6_553);
    }

    fn rows(n: usize, width: usize) -> Vec<Vec<Value>> {
        (0..n).map(|i| (0..width).map(|j| Value::I64((i * width + j) as i64)).collect()).collect()
    }

    #[test]
    fn chunk_ranges_exactly_at_and_one_over_the_bind_limit() {
        // SQLite: 32766 = 2 * 16383 parameters; 2 params per row, no extras.
        let at = rows(16_383, 2);
        assert_eq!(chunk_ranges(Dialect::Sqlite, &at, 0, None), vec![0..16_383]);
        let over = rows(16_384, 2);
        assert_eq!(chunk_ranges(Dialect::Sqlite, &over, 0, None), vec![0..16_383, 16_383..16_384]);
        // PostgreSQL: 65535 = 3 * 21845; 1 value + 2 managed columns per row.
        let at = rows(21_845, 1);
        assert_eq!(chunk_ranges(Dialect::Postgres, &at, 2, None), vec![0..21_845]);
        let over = rows(21_846, 1);
        assert_eq!(chunk_ranges(Dialect::Postgres, &over, 2, None), vec![0..21_845, 21_845..21_846]);
        // MySQL: 65535 = 5 * 13107.
        let at = rows(13_107, 5);
        assert_eq!(chunk_ranges(Dialect::MySql, &at, 0, None), vec![0..13_107]);
        let over = rows(13_108, 5);
        assert_eq!(chunk_ranges(Dialect::MySql, &over, 0, None), vec![0..13_107, 13_107..13_108]);
    }

    #[test]
    fn batch_size_and_mysql_packet_budget_cut_chunks() {
        let r = rows(10, 1);
        assert_eq!(chunk_ranges(Dialect::Postgres, &r, 0, Some(4)), vec![0..4, 4..8, 8..10]);
        assert_eq!(chunk_ranges(Dialect::Postgres, &r, 0, Some(0)), vec![0..10]);
        assert!(chunk_ranges(Dialect::Postgres, &[], 0, None).is_empty());
        // 1 MiB strings: 4 MiB budget => 3 rows per chunk on MySQL, all in one elsewhere.
        let big: Vec<Vec<Value>> = (0..7).map(|_| vec![Value::String("x".repeat(1 << 20))]).collect();
        assert_eq!(chunk_ranges(Dialect::MySql, &big, 2, None), vec![0..3, 3..6, 6..7]);
        assert_eq!(chunk_ranges(Dialect::Sqlite, &big, 2, None), vec![0..7]);
        // A single row above the budget gets a chunk of its own.
        let huge = vec![vec![Value::Bytes(vec![0; 5 << 20])], vec![Value::I64(1)]];
        assert_eq!(chunk_ranges(Dialect::MySql, &huge, 0, None), vec![0..1, 1..2]);
    }
}
