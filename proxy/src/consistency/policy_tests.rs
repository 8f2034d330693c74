//! Table-driven tests of the read policy over simulated shard views.

use std::time::Duration;

use shardwire_conf::ReadConsistency::{self, Bounded, Eventual, Session, Strong};

use super::*;
use crate::consistency::lsn::Lsn;
use crate::consistency::view::{NodeState, ShardView};

use Choice::{Primary, Replica, Wait};
use FallbackReason::{BehindSession, NoHealthyReplica, TooStale, WaitExpired};

const MAX_STALENESS: Duration = Duration::from_millis(300);

/// A replica: healthy?, replay position and staleness in ms (`None` = unknown), reads in
/// flight.
fn node(healthy: bool, position: Option<u64>, stale_ms: Option<u64>, busy: u32) -> NodeState {
    NodeState {
        healthy,
        position: position.map(Lsn),
        staleness: stale_ms.map(Duration::from_millis),
        in_flight: busy,
    }
}

/// A healthy replica at `position`, `stale_ms` behind, with `busy` reads in flight.
fn up(position: u64, stale_ms: u64, busy: u32) -> NodeState {
    node(true, Some(position), Some(stale_ms), busy)
}

/// A healthy replica the monitor knows nothing about yet.
fn unknown(busy: u32) -> NodeState {
    node(true, None, None, busy)
}

/// An unhealthy (failed or banned) replica that would otherwise be perfect.
fn down() -> NodeState {
    node(false, Some(1_000), Some(0), 0)
}

/// (what the case shows, required position, replicas, expected choice)
type Case = (&'static str, Option<u64>, Vec<NodeState>, Choice);

/// Runs each case at `level` through [`choose`], or [`choose_after_wait`] if `waited`.
fn check(level: ReadConsistency, waited: bool, cases: Vec<Case>) {
    let decide = if waited { choose_after_wait } else { choose };
    for (what, required, replicas, expected) in cases {
        let shard = ShardView {
            primary: up(1_000, 0, 0),
            replicas,
        };
        let got = decide(level, required.map(Lsn), MAX_STALENESS, &shard);
        assert_eq!(got, expected, "{level}, waited {waited}: {what}");
    }
}

// Tables stay one row per case, as in router/src/hash/tests.rs.

#[test]
#[rustfmt::skip]
fn strong_reads_always_go_to_the_primary() {
    let strong = Primary(FallbackReason::Strong);
    check(Strong, false, vec![
        ("fresh replicas",     Some(1), vec![up(1_000, 0, 0)], strong),
        ("no replicas",        None,    vec![],                strong),
        ("unhealthy replicas", None,    vec![down()],          strong),
    ]);
}

#[test]
#[rustfmt::skip]
fn eventual_reads_take_any_healthy_replica() {
    check(Eventual, false, vec![
        ("least busy",            None,        vec![up(9, 0, 3), up(9, 0, 1)], Replica(1)),
        ("unhealthy skipped",     None,        vec![down(), up(9, 0, 5)],      Replica(1)),
        ("stale serves",          None,        vec![up(1, 60_000, 0)],         Replica(0)),
        ("behind session serves", Some(1_000), vec![up(1, 0, 0)],             Replica(0)),
        ("unknown serves",        None,        vec![unknown(0)],               Replica(0)),
        ("all unhealthy",         None,        vec![down(), down()],           Primary(NoHealthyReplica)),
        ("no replicas",           None,        vec![],                         Primary(NoHealthyReplica)),
    ]);
}

#[test]
#[rustfmt::skip]
fn bounded_reads_take_a_replica_within_max_staleness() {
    check(Bounded, false, vec![
        ("least busy fresh",     None,        vec![up(9, 100, 2), up(8, 200, 1)], Replica(1)),
        ("stale one skipped",    None,        vec![up(5, 500, 0), up(9, 100, 4)], Replica(1)),
        ("exactly the bound",    None,        vec![up(9, 300, 0)],                Replica(0)),
        ("1ms over the bound",   None,        vec![up(9, 301, 0)],                Primary(TooStale)),
        ("all too stale",        None,        vec![up(5, 500, 0), up(4, 900, 0)], Primary(TooStale)),
        ("unknown not eligible", None,        vec![unknown(0)],                   Primary(TooStale)),
        ("fresh one is down",    None,        vec![down(), up(1, 5_000, 0)],      Primary(TooStale)),
        ("session ignored",      Some(5_000), vec![up(9, 100, 0)],                Replica(0)),
        ("all unhealthy",        None,        vec![down()],                       Primary(NoHealthyReplica)),
        ("no replicas",          None,        vec![],                             Primary(NoHealthyReplica)),
    ]);
}

#[test]
#[rustfmt::skip]
fn session_reads_take_a_replica_past_the_sessions_position() {
    check(Session, false, vec![
        ("replayed exactly",         Some(100), vec![up(100, 0, 0)],                              Replica(0)),
        ("behind one skipped",       Some(100), vec![up(99, 0, 0), up(150, 0, 7)],                Replica(1)),
        ("least busy caught up",     Some(100), vec![up(200, 0, 3), up(150, 0, 2), up(50, 0, 0)], Replica(1)),
        ("staleness ignored",        Some(100), vec![up(100, 60_000, 0)],                         Replica(0)),
        ("no requirement",           None,      vec![down(), unknown(9)],                         Replica(1)),
        ("all behind: wait",         Some(100), vec![up(99, 0, 0), up(10, 0, 0)],                 Wait),
        ("unknown position: wait",   Some(100), vec![unknown(0)],                                 Wait),
        ("caught-up one down: wait", Some(100), vec![down(), up(99, 0, 0)],                       Wait),
        ("all unhealthy",            Some(100), vec![down()],                                     Primary(NoHealthyReplica)),
        ("no replicas",              None,      vec![],                                           Primary(NoHealthyReplica)),
    ]);
}

#[test]
#[rustfmt::skip]
fn ties_go_to_the_most_advanced_then_the_lowest_index() {
    check(Eventual, false, vec![
        ("most advanced of equally busy",  None, vec![up(100, 0, 1), up(300, 0, 1), up(200, 0, 1)], Replica(1)),
        ("equally advanced: lowest index", None, vec![up(100, 0, 2), up(300, 0, 1), up(300, 0, 1)], Replica(1)),
        ("known beats unknown",            None, vec![unknown(0), up(1, 0, 0)],                     Replica(1)),
        ("all unknown: lowest index",      None, vec![down(), unknown(0), unknown(0)],              Replica(1)),
        ("busyness before position",       None, vec![up(1, 0, 0), up(3, 0, 1)],                    Replica(0)),
    ]);
    check(Bounded, false, vec![
        ("among the fresh",     None,      vec![up(1, 0, 0), up(2, 0, 0)],                      Replica(1)),
    ]);
    check(Session, false, vec![
        ("among the caught up", Some(100), vec![up(150, 0, 0), up(150, 0, 0), up(900, 0, 1)], Replica(0)),
    ]);
}

#[test]
#[rustfmt::skip]
fn an_expired_wait_falls_back_to_the_primary() {
    check(Session, true, vec![
        ("still behind",        Some(100), vec![up(99, 0, 0)],                Primary(WaitExpired)),
        ("still unknown",       Some(100), vec![unknown(0)],                  Primary(WaitExpired)),
        ("caught up meanwhile", Some(100), vec![up(99, 0, 0), up(100, 0, 5)], Replica(1)),
        ("went down meanwhile", Some(100), vec![down()],                      Primary(NoHealthyReplica)),
    ]);
    let stale = || vec![up(1, 1_000, 0)];
    check(Strong,   true, vec![("unchanged", None, stale(), Primary(FallbackReason::Strong))]);
    check(Bounded,  true, vec![("unchanged", None, stale(), Primary(TooStale))]);
    check(Eventual, true, vec![("unchanged", None, stale(), Replica(0))]);
}

#[test]
fn resolve_wait_names_the_reason() {
    assert_eq!(Wait.resolve_wait(BehindSession), Primary(BehindSession));
    assert_eq!(Replica(2).resolve_wait(BehindSession), Replica(2));
    assert_eq!(
        Primary(TooStale).resolve_wait(WaitExpired),
        Primary(TooStale)
    );
}

#[test]
fn metric_labels() {
    let labels: Vec<_> = FallbackReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(
        labels,
        [
            "strong",
            "no_healthy_replica",
            "too_stale",
            "behind_session",
            "wait_expired"
        ]
    );
    assert_eq!(TooStale.to_string(), "too_stale");
    assert_eq!(Replica(0).served_by(), Some("replica"));
    assert_eq!(Primary(WaitExpired).served_by(), Some("primary"));
    assert_eq!(Wait.served_by(), None);
}
