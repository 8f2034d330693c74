//! Support for the scattered-read tests: the dataset, the seeded query corpus, and the
//! comparison of two answers.

#![allow(dead_code)]

pub mod corpus;
pub mod dataset;
pub mod rng;

/// One answer: rows of text values (NULL = None), or the error's SQLSTATE and message.
pub type Answer = Result<Vec<Vec<Option<String>>>, (String, String)>;

/// Runs `sql` with the simple protocol and collects text rows.
pub async fn answer(client: &tokio_postgres::Client, sql: &str) -> Answer {
    match client.simple_query(sql).await {
        Ok(messages) => Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect()),
        Err(e) => Err(match e.as_db_error() {
            Some(db) => (db.code().code().to_string(), db.message().to_string()),
            None => ("?".to_string(), e.to_string()),
        }),
    }
}

/// Whether two answers agree: the same rows (in the same order when `ordered`), float
/// columns equal within a relative 1e-9.
pub fn same(
    reference: &[Vec<Option<String>>],
    got: &[Vec<Option<String>>],
    ordered: bool,
    float_columns: &[usize],
) -> Result<(), String> {
    if reference.len() != got.len() {
        return Err(format!(
            "{} rows expected, {} returned",
            reference.len(),
            got.len()
        ));
    }
    let mut want = reference.to_vec();
    let mut have = got.to_vec();
    if !ordered {
        want.sort();
        have.sort();
    }
    for (i, (w, h)) in want.iter().zip(&have).enumerate() {
        if w.len() != h.len() {
            return Err(format!(
                "row {i}: {} columns expected, {} returned",
                w.len(),
                h.len()
            ));
        }
        for (c, (a, b)) in w.iter().zip(h).enumerate() {
            let equal = match (a, b) {
                (Some(a), Some(b)) if float_columns.contains(&c) => close(a, b),
                _ => a == b,
            };
            if !equal {
                return Err(format!("row {i} column {c}: expected {a:?}, got {b:?}\n  expected row {w:?}\n  got row      {h:?}"));
            }
        }
    }
    Ok(())
}

fn close(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}
