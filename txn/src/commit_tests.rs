//! The coordinator against scripted participants.

use super::*;

/// A participant that records what it was asked and fails where told.
#[derive(Debug, Default)]
struct Scripted {
    shard: u32,
    wrote: bool,
    fail_prepare: Option<Failure>,
    fail_commit_prepared: Option<Failure>,
    log: Vec<String>,
}

impl Participant for Scripted {
    fn shard(&self) -> u32 {
        self.shard
    }
    fn wrote(&self) -> bool {
        self.wrote
    }
    async fn prepare(
        &mut self,
        gid: &Gid,
        decision: Option<(&TxnId, &[u32])>,
    ) -> Result<(), Failure> {
        if let Some((txn, shards)) = decision {
            self.log.push(format!("decide {txn} {shards:?}"));
        }
        self.log.push(format!("prepare {gid}"));
        self.fail_prepare.clone().map_or(Ok(()), Err)
    }
    async fn commit_prepared(&mut self, gid: &Gid) -> Result<(), Failure> {
        self.log.push(format!("commit prepared {gid}"));
        self.fail_commit_prepared.clone().map_or(Ok(()), Err)
    }
    async fn rollback_prepared(&mut self, gid: &Gid) -> Result<(), Failure> {
        self.log.push(format!("rollback prepared {gid}"));
        Ok(())
    }
    async fn commit(&mut self) -> Result<(), Failure> {
        self.log.push("commit".into());
        Ok(())
    }
    async fn rollback(&mut self) -> Result<(), Failure> {
        self.log.push("rollback".into());
        Ok(())
    }
}

fn txn() -> TxnId {
    TxnId {
        instance: 0xabc,
        sequence: 7,
    }
}

fn part(shard: u32, wrote: bool) -> Scripted {
    Scripted {
        shard,
        wrote,
        ..Default::default()
    }
}

fn run(ps: &mut [Scripted]) -> (Outcome, Vec<Point>) {
    let mut points = Vec::new();
    let outcome = futures_lite(commit(txn(), ps, |p| points.push(p)));
    (outcome, points)
}

/// Polls a future that never waits (the scripted participants are synchronous).
fn futures_lite<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn one_writer_commits_in_one_phase_after_the_readers() {
    let mut ps = [part(1, true), part(0, false)];
    let (outcome, points) = run(&mut ps);
    assert_eq!(outcome, Outcome::Committed { two_phase: false });
    assert!(points.is_empty());
    assert_eq!(ps[0].log, ["commit"]);
    assert_eq!(ps[1].log, ["commit"]);
}

#[test]
fn two_writers_prepare_decide_on_the_lowest_shard_then_commit() {
    let mut ps = [part(1, true), part(0, true), part(2, false)];
    let (outcome, points) = run(&mut ps);
    assert_eq!(outcome, Outcome::Committed { two_phase: true });
    assert_eq!(
        ps[1].log,
        [
            "decide 000000000abc_7 [0, 1]",
            "prepare sw_000000000abc_7_p0_d0",
            "commit prepared sw_000000000abc_7_p0_d0"
        ]
    );
    assert_eq!(
        ps[0].log,
        [
            "prepare sw_000000000abc_7_p1_d0",
            "commit prepared sw_000000000abc_7_p1_d0"
        ]
    );
    assert_eq!(ps[2].log, ["rollback"]);
    assert_eq!(
        points,
        [
            Point::PreparedSome,
            Point::PreparedAll,
            Point::Decided,
            Point::CommittingRest
        ]
    );
}

#[test]
fn a_failed_prepare_rolls_everything_back_with_the_original_error() {
    let refused = Failure::Refused {
        code: "40001".into(),
        message: "could not serialize".into(),
    };
    let mut ps = [part(0, true), part(1, true), part(2, true)];
    ps[1].fail_prepare = Some(refused.clone());
    let (outcome, _) = run(&mut ps);
    assert_eq!(outcome, Outcome::RolledBack(refused));
    assert_eq!(
        ps[0].log.last().unwrap(),
        "rollback prepared sw_000000000abc_7_p0_d0"
    );
    assert_eq!(ps[1].log.last().unwrap(), "rollback");
    // Prepares go out at once: the third was prepared too, and is rolled back.
    assert_eq!(
        ps[2].log,
        [
            "prepare sw_000000000abc_7_p2_d0",
            "rollback prepared sw_000000000abc_7_p2_d0"
        ]
    );
}

#[test]
fn a_lost_commit_point_is_an_unknown_outcome_naming_the_gid() {
    let mut ps = [part(0, true), part(1, true)];
    ps[0].fail_commit_prepared = Some(Failure::Lost("reset".into()));
    let (outcome, _) = run(&mut ps);
    assert_eq!(
        outcome,
        Outcome::Unknown {
            gid: "sw_000000000abc_7_p0_d0".into(),
            failure: Failure::Lost("reset".into())
        }
    );
    // The other participant stays prepared for recovery to decide.
    assert_eq!(ps[1].log, ["prepare sw_000000000abc_7_p1_d0"]);
}

#[test]
fn failures_after_the_commit_point_still_commit() {
    let mut ps = [part(0, true), part(1, true)];
    ps[1].fail_commit_prepared = Some(Failure::Lost("gone".into()));
    let (outcome, _) = run(&mut ps);
    assert_eq!(outcome, Outcome::Committed { two_phase: true });
}

#[test]
fn a_fixed_decider_that_only_read_holds_the_decision_and_is_prepared_first() {
    // XA: shard 2 began the transaction (its branch is named after it) but only read.
    let mut ps = vec![part(2, false), part(0, true), part(1, true)];
    let outcome = futures_lite(commit_deciding(txn(), &mut ps, Some(2), |_| {}));
    assert_eq!(outcome, Outcome::Committed { two_phase: true });
    let decider_gid = "sw_000000000abc_7_p2_d2";
    assert_eq!(
        ps[0].log,
        [
            "decide 000000000abc_7 [2, 0, 1]".to_string(),
            format!("prepare {decider_gid}"),
            format!("commit prepared {decider_gid}"),
        ]
    );
    assert_eq!(
        ps[1].log,
        [
            "prepare sw_000000000abc_7_p0_d2",
            "commit prepared sw_000000000abc_7_p0_d2"
        ]
    );
}

#[test]
fn a_fixed_decider_does_not_turn_one_writer_into_two_phases() {
    let mut ps = vec![part(2, false), part(0, true)];
    let outcome = futures_lite(commit_deciding(txn(), &mut ps, Some(2), |_| {}));
    assert_eq!(outcome, Outcome::Committed { two_phase: false });
    assert_eq!(ps[0].log, ["commit"]);
    assert_eq!(ps[1].log, ["commit"]);
}
