//! The recovery rules, one case at a time.

use super::*;

const GRACE: Duration = Duration::from_secs(30);
const YOUNG: Duration = Duration::from_secs(1);
const OLD: Duration = Duration::from_secs(60);

fn txn(sequence: u64) -> TxnId {
    TxnId {
        instance: 0x3f9a_0c1b_2d4e,
        sequence,
    }
}

fn gid(sequence: u64, participant: u32, decision: u32) -> String {
    Gid {
        txn: txn(sequence),
        participant,
        decision,
    }
    .to_string()
}

fn prepared(shard: u32, gid: String, age: Duration) -> Prepared {
    Prepared { shard, gid, age }
}

/// Two shards, both listed, both decision tables answering, nothing found yet.
fn seen(prepared: Vec<Prepared>) -> Observation {
    let mut observed = Observation {
        shards: 2,
        listed: [0, 1].into(),
        listing_window: Duration::from_millis(5),
        ..Observation::default()
    };
    for shard in lookups(&prepared).into_keys() {
        observed.decisions.insert(shard, BTreeSet::new());
    }
    observed.prepared = prepared;
    observed
}

fn decided(mut observed: Observation, shard: u32, sequence: u64) -> Observation {
    observed
        .decisions
        .entry(shard)
        .or_default()
        .insert(txn(sequence));
    observed
}

fn commit(shard: u32, gid: String) -> Action {
    Action::Commit { shard, gid }
}

fn rollback(shard: u32, gid: String) -> Action {
    Action::Rollback { shard, gid }
}

fn in_doubt(shard: u32, gid: String, age: Duration, reason: Reason) -> Action {
    Action::InDoubt {
        shard,
        gid,
        age,
        reason,
    }
}

fn row(sequence: u64, age: Duration) -> DecisionRow {
    DecisionRow {
        txid: txn(sequence).to_string(),
        age,
    }
}

#[test]
fn lookups_ask_each_decision_shard_about_its_transactions() {
    let wanted = lookups(&[
        prepared(0, gid(1, 0, 0), YOUNG),
        prepared(1, gid(1, 1, 0), YOUNG),
        prepared(1, gid(2, 1, 1), YOUNG),
        prepared(0, "app_123".into(), OLD),
    ]);
    assert_eq!(
        wanted,
        BTreeMap::from([(0, [txn(1)].into()), (1, [txn(2)].into())])
    );
}

#[test]
fn participants_of_a_decided_transaction_are_committed_even_young() {
    let observed = decided(
        seen(vec![
            prepared(1, gid(7, 1, 0), YOUNG),
            prepared(1, gid(8, 1, 0), OLD),
        ]),
        0,
        7,
    );
    let mut observed = decided(observed, 0, 8);
    observed.listed.remove(&0); // the decision shard's own listing is not needed
    assert_eq!(
        plan(&observed, GRACE),
        vec![commit(1, gid(7, 1, 0)), commit(1, gid(8, 1, 0))]
    );
}

#[test]
fn undecided_transactions_within_the_grace_period_are_left() {
    let observed = seen(vec![
        prepared(0, gid(3, 0, 0), YOUNG),
        prepared(1, gid(3, 1, 0), GRACE),
    ]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            in_doubt(0, gid(3, 0, 0), YOUNG, Reason::WithinGrace),
            in_doubt(1, gid(3, 1, 0), GRACE, Reason::WithinGrace),
        ]
    );
}

#[test]
fn the_decision_participant_is_rolled_back_first_after_the_grace_period() {
    let observed = seen(vec![
        prepared(0, gid(4, 0, 0), OLD),
        prepared(1, gid(4, 1, 0), OLD),
    ]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            rollback(0, gid(4, 0, 0)),
            in_doubt(1, gid(4, 1, 0), OLD, Reason::DecisionParticipantPrepared),
        ]
    );
    // Next pass: the decision participant is gone and left no row.
    let observed = seen(vec![prepared(1, gid(4, 1, 0), OLD)]);
    assert_eq!(plan(&observed, GRACE), vec![rollback(1, gid(4, 1, 0))]);
}

#[test]
fn a_participant_waits_while_its_young_decision_participant_is_prepared() {
    let observed = seen(vec![
        prepared(0, gid(5, 0, 0), YOUNG),
        prepared(1, gid(5, 1, 0), OLD),
    ]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            in_doubt(0, gid(5, 0, 0), YOUNG, Reason::WithinGrace),
            in_doubt(1, gid(5, 1, 0), OLD, Reason::DecisionParticipantPrepared),
        ]
    );
}

#[test]
fn an_unreachable_decision_shard_leaves_the_transaction_in_doubt() {
    let mut observed = seen(vec![prepared(1, gid(6, 1, 0), OLD)]);
    observed.decisions.clear();
    observed.listed.remove(&0);
    let unknown = Reason::DecisionUnknown { shard: 0 };
    assert_eq!(
        plan(&observed, GRACE),
        vec![in_doubt(1, gid(6, 1, 0), OLD, unknown)]
    );
    // The table answered but the listing failed: the decision participant may still be
    // prepared and commit later.
    let mut observed = seen(vec![prepared(1, gid(6, 1, 0), OLD)]);
    observed.listed.remove(&0);
    assert_eq!(
        plan(&observed, GRACE),
        vec![in_doubt(1, gid(6, 1, 0), OLD, unknown)]
    );
}

#[test]
fn a_slow_listing_postpones_rolling_back_other_participants() {
    let mut observed = seen(vec![
        prepared(0, gid(9, 0, 0), OLD),
        prepared(1, gid(10, 1, 0), OLD),
    ]);
    observed.listing_window = GRACE;
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            rollback(0, gid(9, 0, 0)),
            in_doubt(1, gid(10, 1, 0), OLD, Reason::SlowListing),
        ]
    );
}

#[test]
fn foreign_gids_are_ignored() {
    let observed = seen(vec![
        prepared(0, "app_123".into(), OLD),
        prepared(1, "sw_not_ours".into(), OLD),
    ]);
    assert_eq!(plan(&observed, GRACE), vec![]);
}

#[test]
fn gids_naming_other_shards_are_left_in_doubt() {
    let observed = seen(vec![
        prepared(0, gid(11, 1, 0), OLD), // prepared on shard 0, says participant 1
        prepared(1, gid(12, 1, 5), OLD), // decision shard 5 of 2
    ]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            in_doubt(0, gid(11, 1, 0), OLD, Reason::ForeignShard),
            in_doubt(1, gid(12, 1, 5), OLD, Reason::ForeignShard),
        ]
    );
}

#[test]
fn old_decisions_no_prepared_transaction_needs_are_deleted() {
    let mut observed = seen(vec![prepared(1, gid(21, 1, 0), YOUNG)]);
    observed = decided(observed, 0, 21);
    observed.old_decisions = BTreeMap::from([
        (0, vec![row(20, OLD), row(21, OLD), row(22, GRACE)]),
        (1, vec![row(23, OLD)]),
    ]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![
            commit(1, gid(21, 1, 0)),
            Action::DeleteDecisions {
                shard: 0,
                txids: vec![txn(20).to_string()],
            },
            Action::DeleteDecisions {
                shard: 1,
                txids: vec![txn(23).to_string()],
            },
        ]
    );
}

#[test]
fn decisions_are_kept_while_any_shard_was_not_listed() {
    let mut observed = seen(vec![]);
    observed.old_decisions = BTreeMap::from([(0, vec![row(30, OLD)])]);
    observed.listed.remove(&1);
    assert_eq!(plan(&observed, GRACE), vec![]);
}

#[test]
fn foreign_prepared_transactions_do_not_keep_decisions() {
    let mut observed = seen(vec![prepared(0, "app_123".into(), OLD)]);
    observed.old_decisions = BTreeMap::from([(0, vec![row(31, OLD)])]);
    assert_eq!(
        plan(&observed, GRACE),
        vec![Action::DeleteDecisions {
            shard: 0,
            txids: vec![txn(31).to_string()],
        }]
    );
}

#[test]
fn reasons_read_as_sentences() {
    assert_eq!(
        Reason::DecisionUnknown { shard: 2 }.to_string(),
        "decision shard 2 unreachable, outcome unknown"
    );
    assert_eq!(
        Reason::WithinGrace.to_string(),
        "no decision yet, within the grace period"
    );
}
