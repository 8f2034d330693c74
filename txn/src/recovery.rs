//! Recovery of two-phase commits (DESIGN §7), the pure half: given what one pass saw on
//! a database's shard primaries, decide what to do with every prepared `sw_` transaction
//! and which decision rows can go. The proxy does the I/O and applies the [`Action`]s.
//!
//! The decision of a transaction is a row in `shardwire_2pc_decisions` on its decision
//! shard, written inside the decision participant's own transaction: it is visible exactly
//! when that participant committed (the commit point). So:
//!
//! - a decision row exists → commit the participant;
//! - no row, and the prepared transaction is older than the grace period → roll it back.
//!   The decision participant goes first: once it is rolled back the row can never appear.
//!   Another participant is rolled back only when the decision participant is known not to
//!   be prepared (gone without a row: rolled back, never committed), i.e. in a later pass;
//! - no row within the grace period → leave it, a coordinator may still be working;
//! - whatever cannot be known (decision shard unreachable, a GID naming shards the config
//!   does not have) is left in doubt. Recovery never guesses.
//!
//! The pass must look in a fixed order for these rules to be safe against coordinators
//! running at the same time: read old decision rows ([`Observation::old_decisions`]), then
//! list prepared transactions, then look the decisions up ([`lookups`]). A decision row
//! read before the listing was visible then, so all its participants were prepared before
//! the listing and still-prepared ones are seen: deleting only rows read that early, and
//! only those no listed transaction names, never loses a needed decision. A row looked up
//! after the listing is seen if it became visible before the lookup. This assumes the
//! coordinator prepares the decision participant before any other one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use crate::gid::{Gid, TxnId};

/// A prepared transaction as `pg_prepared_xacts` lists it on one shard's primary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The shard whose primary holds it.
    pub shard: u32,
    /// Its GID exactly as the server spells it (commands must repeat it verbatim).
    pub gid: String,
    /// How long it has been prepared, by that server's clock.
    pub age: Duration,
}

/// A row of the decision table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    /// Its key, the text form of a [`TxnId`].
    pub txid: String,
    /// Time since `decided_at`, by that server's clock.
    pub age: Duration,
}

/// What one pass saw in one database, in the order it must be looked at (see the module
/// documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// How many shards the database has; GIDs naming others are left in doubt.
    pub shards: u32,
    /// Decision rows older than the grace period, read first, per shard whose table could
    /// be read; the candidates for deletion.
    pub old_decisions: BTreeMap<u32, Vec<DecisionRow>>,
    /// The shards whose primary listed its prepared transactions.
    pub listed: BTreeSet<u32>,
    /// Every prepared transaction listed, foreign ones included (they are ignored).
    pub prepared: Vec<Prepared>,
    /// How long listing all shards took. Rolling back a participant relies on its
    /// decision participant having been listed less than a grace period after it.
    pub listing_window: Duration,
    /// The result of [`lookups`], read after the listing: per decision shard whose table
    /// answered, the transactions found there. A shard missing here is unknown.
    pub decisions: BTreeMap<u32, BTreeSet<TxnId>>,
}

/// What to do. Commands must be run in the order [`plan`] returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `COMMIT PREPARED 'gid'` on the shard's primary: the decision row exists.
    Commit {
        /// Where it is prepared.
        shard: u32,
        /// The GID as listed.
        gid: String,
    },
    /// `ROLLBACK PREPARED 'gid'` on the shard's primary: no decision and past the grace.
    Rollback {
        /// Where it is prepared.
        shard: u32,
        /// The GID as listed.
        gid: String,
    },
    /// Nothing can be done in this pass.
    InDoubt {
        /// Where it is prepared.
        shard: u32,
        /// The GID as listed.
        gid: String,
        /// How long it has been prepared.
        age: Duration,
        /// Why it is left alone.
        reason: Reason,
    },
    /// `DELETE FROM shardwire_2pc_decisions WHERE txid = ANY(txids)` on the shard's primary.
    DeleteDecisions {
        /// The shard holding the rows.
        shard: u32,
        /// Their keys.
        txids: Vec<String>,
    },
}

/// Why a prepared transaction is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No decision yet, but younger than the grace period: its coordinator may still commit.
    WithinGrace,
    /// The decision shard's primary did not answer: the outcome cannot be known.
    DecisionUnknown {
        /// The decision shard.
        shard: u32,
    },
    /// No decision, and the decision participant is still prepared: it is rolled back
    /// first (now or when it passes the grace period), this one in a later pass.
    DecisionParticipantPrepared,
    /// Listing the shards took longer than the grace period, too long to be sure the
    /// decision participant was listed after this one was prepared; tried again next pass.
    SlowListing,
    /// The GID names a participant or decision shard other than where it is prepared or
    /// beyond the configured shards (was the shard list reordered?).
    ForeignShard,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::WithinGrace => f.write_str("no decision yet, within the grace period"),
            Reason::DecisionUnknown { shard } => {
                write!(f, "decision shard {shard} unreachable, outcome unknown")
            }
            Reason::DecisionParticipantPrepared => {
                f.write_str("no decision; waits for the decision participant's rollback")
            }
            Reason::SlowListing => f.write_str("listing took longer than the grace period"),
            Reason::ForeignShard => {
                f.write_str("GID names shards that do not match the configuration")
            }
        }
    }
}

/// Which transactions to look for in which shard's decision table: every `sw_` GID of
/// `prepared` asks its decision shard about its transaction.
pub fn lookups(prepared: &[Prepared]) -> BTreeMap<u32, BTreeSet<TxnId>> {
    let mut wanted: BTreeMap<u32, BTreeSet<TxnId>> = BTreeMap::new();
    for gid in prepared.iter().filter_map(|p| Gid::parse(&p.gid)) {
        wanted.entry(gid.decision).or_default().insert(gid.txn);
    }
    wanted
}

/// The actions for one pass: commits and rollbacks in listing order, in-doubt notes, then
/// decision rows to delete (only when every shard was listed).
pub fn plan(observed: &Observation, grace: Duration) -> Vec<Action> {
    let ours: Vec<(&Prepared, Gid)> = observed
        .prepared
        .iter()
        .filter_map(|p| Some((p, Gid::parse(&p.gid)?)))
        .collect();
    let in_range = |p: &Prepared, gid: &Gid| {
        gid.participant == p.shard && gid.decision < observed.shards && p.shard < observed.shards
    };
    let deciders_prepared: BTreeSet<TxnId> = ours
        .iter()
        .filter(|(p, gid)| in_range(p, gid) && gid.participant == gid.decision)
        .map(|(_, gid)| gid.txn)
        .collect();
    let mut actions: Vec<Action> = ours
        .iter()
        .map(|(p, gid)| {
            let reason = if in_range(p, gid) {
                match resolve(observed, grace, p, gid, &deciders_prepared) {
                    Ok(action) => return action,
                    Err(reason) => reason,
                }
            } else {
                Reason::ForeignShard
            };
            Action::InDoubt {
                shard: p.shard,
                gid: p.gid.clone(),
                age: p.age,
                reason,
            }
        })
        .collect();
    let keep: BTreeSet<TxnId> = ours.iter().map(|(_, gid)| gid.txn).collect();
    actions.extend(collect_garbage(observed, grace, &keep));
    actions
}

/// Commit, roll back, or why neither, for one of our prepared transactions.
fn resolve(
    observed: &Observation,
    grace: Duration,
    p: &Prepared,
    gid: &Gid,
    deciders_prepared: &BTreeSet<TxnId>,
) -> Result<Action, Reason> {
    let unknown = Reason::DecisionUnknown {
        shard: gid.decision,
    };
    let found = observed.decisions.get(&gid.decision).ok_or(unknown)?;
    let (shard, text) = (p.shard, p.gid.clone());
    if found.contains(&gid.txn) {
        return Ok(Action::Commit { shard, gid: text });
    }
    if p.age <= grace {
        return Err(Reason::WithinGrace);
    }
    if gid.participant != gid.decision {
        // Only safe once the row can no longer appear: the decision participant must be
        // known to be gone, which needs its shard's listing.
        if !observed.listed.contains(&gid.decision) {
            return Err(unknown);
        }
        if deciders_prepared.contains(&gid.txn) {
            return Err(Reason::DecisionParticipantPrepared);
        }
        if observed.listing_window >= grace {
            return Err(Reason::SlowListing);
        }
    }
    Ok(Action::Rollback { shard, gid: text })
}

/// Old decision rows no prepared transaction needs, when every shard was listed.
fn collect_garbage(observed: &Observation, grace: Duration, keep: &BTreeSet<TxnId>) -> Vec<Action> {
    if (0..observed.shards).any(|s| !observed.listed.contains(&s)) {
        return Vec::new();
    }
    observed
        .old_decisions
        .iter()
        .filter_map(|(&shard, rows)| {
            let txids: Vec<String> = rows
                .iter()
                .filter(|row| row.age > grace)
                .filter(|row| TxnId::parse(&row.txid).is_none_or(|t| !keep.contains(&t)))
                .map(|row| row.txid.clone())
                .collect();
            (!txids.is_empty()).then_some(Action::DeleteDecisions { shard, txids })
        })
        .collect()
}

#[cfg(test)]
mod tests;
