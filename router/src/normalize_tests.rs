//! The normalizer: literals out, placeholders in, statements split, comments gone.

use super::*;

fn texts(sql: &str) -> (String, Vec<&str>) {
    let n = normalize(sql);
    (n.text.clone(), n.literals.iter().map(|l| l.text).collect())
}

fn value(literal: &Literal<'_>) -> String {
    String::from_utf8_lossy(&literal.value().expect("valid literal")).into_owned()
}

#[test]
fn literals_become_numbered_placeholders_in_order() {
    let (text, literals) = texts("SELECT * FROM accounts WHERE id = 42 AND name = 'bob' LIMIT 10");
    assert_eq!(
        text,
        "SELECT * FROM accounts WHERE id = $L1 AND name = $L2 LIMIT $L3"
    );
    assert_eq!(literals, ["42", "'bob'", "10"]);
}

#[test]
fn statements_differing_only_in_literals_normalize_alike() {
    let a = normalize("select * from t where id = 1");
    let b = normalize("select  *\n  from t   -- comment\n where id = 1234 /* c */");
    assert_eq!(a.text, b.text);
}

#[test]
fn string_escapes_are_decoded() {
    let n = normalize(r"SELECT 'it''s', E'a\nb\x41\101\u00e9\'q''', e'\U0001F600'");
    let values: Vec<String> = n.literals.iter().map(value).collect();
    assert_eq!(values, ["it's", "a\nbAAé'q'", "😀"]);
    assert_eq!(n.literals[1].kind, LiteralKind::EscapeString);
    assert_eq!(n.text, "SELECT $L1, $L2, $L3");
}

#[test]
fn invalid_unicode_escapes_have_no_value() {
    let n = normalize(r"SELECT E'\u12', E'\uD800'");
    assert!(n.literals.iter().all(|l| l.value().is_none()));
    let pair = normalize(r"SELECT E'\uD83D\uDE00'");
    assert_eq!(value(&pair.literals[0]), "😀");
}

#[test]
fn a_minus_is_folded_only_where_it_is_a_sign() {
    let (text, literals) = texts("SELECT -1, 3 - 2, x -5, y=-7 FROM t WHERE a = -8 AND b IN (-9)");
    assert_eq!(
        text,
        "SELECT $L1, $L2 - $L3, x -$L4, y=$L5 FROM t WHERE a = $L6 AND b IN ($L7)"
    );
    assert_eq!(literals, ["-1", "3", "2", "5", "-7", "-8", "-9"]);
}

#[test]
fn multi_statement_strings_split_at_top_level_semicolons() {
    let n = normalize("BEGIN; UPDATE t SET v = 'a;b' WHERE id = 2;; COMMIT;");
    assert_eq!(n.text, "BEGIN;UPDATE t SET v = $L1 WHERE id = $L2;COMMIT");
    let statements: Vec<&str> = n.statements().collect();
    assert_eq!(
        statements,
        ["BEGIN", "UPDATE t SET v = $L1 WHERE id = $L2", "COMMIT"]
    );
    let keyword: Vec<bool> = n.statements.iter().map(|s| s.keyword).collect();
    assert_eq!(keyword, [true, false, true]);
    let raw: Vec<&str> = n
        .statements
        .iter()
        .map(|s| &"BEGIN; UPDATE t SET v = 'a;b' WHERE id = 2;; COMMIT;"[s.raw.clone()])
        .collect();
    assert_eq!(
        raw,
        ["BEGIN", "UPDATE t SET v = 'a;b' WHERE id = 2", "COMMIT"]
    );
}

#[test]
fn keyword_statements_keep_their_values() {
    let (text, literals) = texts("  set  search_path TO 'a', b ; SHOW x");
    assert_eq!(text, "set search_path TO 'a', b;SHOW x");
    assert!(literals.is_empty());
    assert!(normalize("SET x = 1").is_single_keyword_statement());
    assert!(!normalize("SET x = 1; SELECT 1").is_single_keyword_statement());
}

#[test]
fn typed_literals_dollar_quotes_and_params_stay() {
    let (text, literals) = texts(
        "SELECT DATE '2024-01-01', interval '1 day', $$x$$, B'01', $1 FROM t WHERE ts > TIMESTAMP WITH TIME ZONE 'now'",
    );
    assert_eq!(
        text,
        "SELECT DATE '2024-01-01', interval '1 day', $$x$$, B'01', $1 FROM t WHERE ts > TIMESTAMP WITH TIME ZONE 'now'"
    );
    assert!(literals.is_empty());
}

#[test]
fn placeholders_never_run_into_the_next_word() {
    let (text, _) = texts("SELECT 'a'AS x, 1::int");
    assert_eq!(text, "SELECT $L1 AS x, $L2::int");
}

#[test]
fn empty_statements_and_comments_only_have_no_statements() {
    for sql in ["", ";", " ;; ", "-- only a comment", "/* c */ ; -- d"] {
        let n = normalize(sql);
        assert_eq!(n.statements().count(), 0, "{sql:?}");
        assert_eq!(n.text, "", "{sql:?}");
    }
}

#[test]
fn numbers_in_all_spellings_are_literals() {
    let (_, literals) = texts("SELECT 1.5, .5, 1e10, 2E-3, 0x1F, 1_000, 42");
    assert_eq!(
        literals,
        ["1.5", ".5", "1e10", "2E-3", "0x1F", "1_000", "42"]
    );
}

#[test]
fn identifiers_with_digits_and_quoted_identifiers_are_not_literals() {
    let (text, literals) = texts("SELECT t1.c2, \"3\" FROM t1");
    assert_eq!(text, "SELECT t1.c2, \"3\" FROM t1");
    assert!(literals.is_empty());
}

#[test]
fn placeholders_count_past_a_thousand() {
    let values: Vec<String> = (0..1200).map(|i| i.to_string()).collect();
    let sql = format!("SELECT {}", values.join(", "));
    let n = normalize(&sql);
    assert_eq!(n.literals.len(), 1200);
    assert!(
        n.text.ends_with("$L999, $L1000, $L1001, $L1199, $L1200")
            || n.text.contains("$L999, $L1000, $L1001")
    );
    assert!(n.text.ends_with("$L1200"));
    assert_eq!(n.literals[1199].text, "1199");
}
