//! HAVING: constants read as the output's type, three-valued logic.

use shardwire_router::ValueRef;

use super::*;
use crate::merge::test_support::{c, TestValues};

fn meta(kind: Kind, binary: bool) -> OutputMeta {
    OutputMeta {
        kind,
        binary,
        name: "o".into(),
        type_oid: 0,
    }
}

fn cmp(left: Operand, op: CompareOp, right: Operand) -> Condition {
    Condition::Compare { left, op, right }
}

fn out(i: usize) -> Operand {
    Operand::Output(i)
}

fn val(sql: &str) -> Operand {
    Operand::Value(c(sql))
}

fn row(cells: &[Option<&str>]) -> Vec<Option<Vec<u8>>> {
    cells
        .iter()
        .map(|c| c.map(|s| s.as_bytes().to_vec()))
        .collect()
}

/// Evaluates `condition` on text outputs of the given kinds.
fn eval(condition: Condition, kinds: &[Kind], cells: &[Option<&str>]) -> Option<bool> {
    let metas: Vec<OutputMeta> = kinds.iter().map(|k| meta(*k, false)).collect();
    let cond = compile(&condition, &metas, &TestValues::default()).unwrap();
    cond.eval(&row(cells), &metas).unwrap()
}

#[test]
fn numbers_compare_numerically_across_types() {
    use CompareOp::*;
    assert_eq!(
        eval(cmp(out(0), Gt, val("1")), &[Kind::Int], &[Some("2")]),
        Some(true)
    );
    assert_eq!(
        eval(cmp(out(0), Gt, val("1.5")), &[Kind::Int], &[Some("2")]),
        Some(true)
    );
    assert_eq!(
        eval(
            cmp(out(0), Lt, val("10")),
            &[Kind::Numeric],
            &[Some("9.99")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(
            cmp(out(0), Eq, val("1.50")),
            &[Kind::Numeric],
            &[Some("1.5")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(cmp(val("3"), LtEq, out(0)), &[Kind::Float8], &[Some("3")]),
        Some(true)
    );
    assert_eq!(
        eval(cmp(out(0), NotEq, val("'3'")), &[Kind::Int], &[Some("3")]),
        Some(false)
    );
    assert_eq!(
        eval(
            cmp(out(0), GtEq, out(1)),
            &[Kind::Int, Kind::Numeric],
            &[Some("2"), Some("2.0")]
        ),
        Some(true)
    );
}

#[test]
fn text_dates_and_booleans_compare_by_value() {
    use CompareOp::*;
    assert_eq!(
        eval(
            cmp(out(0), Eq, val("'it''s'")),
            &[Kind::Text],
            &[Some("it's")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(
            cmp(out(0), Eq, val("E'a\\n'")),
            &[Kind::Text],
            &[Some("a\n")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(cmp(out(0), Lt, val("'b'")), &[Kind::Bpchar], &[Some("a  ")]),
        Some(true)
    );
    assert_eq!(
        eval(
            cmp(out(0), Gt, val("'2024-01-01'")),
            &[Kind::Date],
            &[Some("2024-01-02")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(cmp(out(0), Eq, val("'true'")), &[Kind::Bool], &[Some("t")]),
        Some(true)
    );
}

#[test]
fn null_makes_comparisons_unknown_and_logic_is_three_valued() {
    use CompareOp::*;
    let gt1 = || cmp(out(0), Gt, val("1"));
    assert_eq!(eval(gt1(), &[Kind::Int], &[None]), None);
    assert_eq!(
        eval(cmp(out(0), Eq, Operand::Null), &[Kind::Int], &[Some("1")]),
        None
    );
    assert_eq!(
        eval(cmp(out(0), Eq, val("NULL")), &[Kind::Int], &[Some("1")]),
        None
    );
    assert_eq!(
        eval(Condition::Not(Box::new(gt1())), &[Kind::Int], &[None]),
        None
    );
    let false_ = || cmp(out(0), Gt, val("5"));
    let true_ = || cmp(out(0), Gt, val("0"));
    assert_eq!(
        eval(
            Condition::And(vec![gt1(), false_()]),
            &[Kind::Int],
            &[Some("1")]
        ),
        Some(false)
    );
    // NULL AND false = false; NULL OR true = true; NULL AND true = NULL.
    let null = || cmp(out(0), Eq, Operand::Null);
    assert_eq!(
        eval(
            Condition::And(vec![null(), false_()]),
            &[Kind::Int],
            &[Some("1")]
        ),
        Some(false)
    );
    assert_eq!(
        eval(
            Condition::Or(vec![null(), true_()]),
            &[Kind::Int],
            &[Some("1")]
        ),
        Some(true)
    );
    assert_eq!(
        eval(
            Condition::And(vec![null(), true_()]),
            &[Kind::Int],
            &[Some("1")]
        ),
        None
    );
    assert_eq!(
        eval(
            Condition::Or(vec![null(), false_()]),
            &[Kind::Int],
            &[Some("1")]
        ),
        None
    );
    let is_null = |negated| Condition::IsNull { output: 0, negated };
    assert_eq!(eval(is_null(false), &[Kind::Int], &[None]), Some(true));
    assert_eq!(eval(is_null(true), &[Kind::Int], &[None]), Some(false));
    // Two constants are folded.
    assert_eq!(
        eval(cmp(val("1"), Eq, val("1.0")), &[Kind::Int], &[Some("1")]),
        Some(true)
    );
}

#[test]
fn parameters_are_read_by_their_format_and_type() {
    use CompareOp::*;
    let metas = [meta(Kind::Int, false), meta(Kind::Numeric, true)];
    let values = TestValues {
        literals: vec!["3"],
        params: vec![
            (Some(5i64.to_be_bytes().to_vec()), true, 0),
            (Some(b"4.5".to_vec()), false, 0),
            (None, false, 0),
        ],
    };
    let mut big = Vec::new();
    crate::merge::numeric::Numeric::parse_text(b"4.75")
        .unwrap()
        .write_binary(&mut big);
    let row = vec![Some(b"5".to_vec()), Some(big)];
    let check = |c: Condition| {
        compile(&c, &metas, &values)
            .unwrap()
            .eval(&row, &metas)
            .unwrap()
    };
    assert_eq!(
        check(cmp(out(0), Eq, Operand::Value(ValueRef::Param(1)))),
        Some(true)
    );
    assert_eq!(
        check(cmp(out(1), Gt, Operand::Value(ValueRef::Param(2)))),
        Some(true)
    );
    assert_eq!(
        check(cmp(out(1), Gt, Operand::Value(ValueRef::Literal(0)))),
        Some(true)
    );
    assert_eq!(
        check(cmp(out(0), Eq, Operand::Value(ValueRef::Param(3)))),
        None
    );
}

#[test]
fn unsupported_comparisons_are_refused_up_front() {
    use CompareOp::*;
    let metas = [
        meta(Kind::Other, false),
        meta(Kind::Text, false),
        meta(Kind::Int, false),
    ];
    let compile = |c: Condition| compile(&c, &metas, &TestValues::default());
    assert_eq!(
        compile(cmp(out(0), Eq, val("1"))).unwrap_err().sqlstate,
        "0A000"
    );
    assert_eq!(
        compile(cmp(out(1), Eq, out(2))).unwrap_err().sqlstate,
        "0A000"
    );
    assert_eq!(
        compile(cmp(out(2), Eq, val("'abc'"))).unwrap_err().sqlstate,
        "22P02"
    );
    assert_eq!(
        compile(cmp(out(7), Eq, val("1"))).unwrap_err().sqlstate,
        "XX000"
    );
    assert_eq!(
        compile(cmp(out(2), Eq, Operand::Value(ValueRef::Param(1))))
            .unwrap_err()
            .sqlstate,
        "XX000"
    );
}
