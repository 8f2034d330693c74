//! Statement text for each way of sending it. Workloads write statements once, in
//! PostgreSQL's `$n` form with integer parameters; MySQL wants `?` in order of
//! appearance, and the simple (text) protocols want the values inlined.

/// Spans of `$n` placeholders in `sql` outside string literals: (start, end, n - 1).
fn placeholders(sql: &str) -> Vec<(usize, usize, usize)> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'$' if !in_string => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let number = sql[i + 1..i + 1 + digits].parse::<usize>().ok();
                if let Some(n) = number.filter(|n| *n > 0) {
                    found.push((i, i + 1 + digits, n - 1));
                    i += digits;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The MySQL form: each `$n` becomes `?`, and the returned list says which parameter
/// each `?` takes (a `$1` used twice is bound twice).
pub fn to_question_marks(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut last = 0;
    for (start, end, index) in placeholders(sql) {
        out.push_str(&sql[last..start]);
        out.push('?');
        order.push(index);
        last = end;
    }
    out.push_str(&sql[last..]);
    (out, order)
}

/// The text-protocol form with the values written in. Negative values get parentheses
/// so `balance + $1` stays one expression on both engines.
pub fn inline(sql: &str, params: &[i64]) -> String {
    let mut out = String::with_capacity(sql.len() + params.len() * 8);
    let mut last = 0;
    for (start, end, index) in placeholders(sql) {
        out.push_str(&sql[last..start]);
        match params.get(index) {
            Some(v) if *v < 0 => out.push_str(&format!("({v})")),
            Some(v) => out.push_str(&v.to_string()),
            // A missing value is a bug in a workload; NULL makes the server say so.
            None => out.push_str("NULL"),
        }
        last = end;
    }
    out.push_str(&sql[last..]);
    out
}

/// The highest `$n` used: how many parameters a statement takes.
pub fn param_count(sql: &str) -> usize {
    placeholders(sql)
        .iter()
        .map(|(_, _, i)| i + 1)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAN_OUT: &str = "SELECT count(*) FROM t WHERE id BETWEEN $1 AND $1 + 1000";

    #[test]
    fn question_marks_keep_the_binding_order() {
        let (sql, order) = to_question_marks("UPDATE t SET b = b + $2 WHERE id = $1");
        assert_eq!(sql, "UPDATE t SET b = b + ? WHERE id = ?");
        assert_eq!(order, vec![1, 0]);
        let (sql, order) = to_question_marks(FAN_OUT);
        assert_eq!(
            sql,
            "SELECT count(*) FROM t WHERE id BETWEEN ? AND ? + 1000"
        );
        assert_eq!(order, vec![0, 0]);
    }

    #[test]
    fn inlining_writes_values_and_leaves_strings_alone() {
        assert_eq!(
            inline("UPDATE t SET b = b + $2 WHERE id = $1", &[7, -3]),
            "UPDATE t SET b = b + (-3) WHERE id = 7"
        );
        assert_eq!(
            inline("SELECT '$1', $10 FROM t", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            "SELECT '$1', 10 FROM t"
        );
        assert_eq!(inline("SELECT $ FROM t", &[]), "SELECT $ FROM t");
    }

    #[test]
    fn parameters_are_counted_by_the_highest_number() {
        assert_eq!(param_count(FAN_OUT), 1);
        assert_eq!(param_count("SELECT 1"), 0);
        assert_eq!(param_count("VALUES ($1, $2), ($3, $4)"), 4);
    }
}
