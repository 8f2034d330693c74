//! Global transaction ids (DESIGN §7, contract): `sw_` + the coordinator instance + the
//! transaction + the participant shard + the shard holding the decision, at most 64 bytes
//! (MySQL's XA limit), e.g. `sw_3f9a0c1b2d4e_17_p1_d0`.
//!
//! The decision row's key is the transaction part, `<instance>_<sequence>` (its [`TxnId`]),
//! so recovery can go from any prepared participant to the one row that decides it.

use std::fmt;

/// The prefix of every GID shardwire makes; recovery only touches these.
pub const PREFIX: &str = "sw_";

/// The longest GID any participant accepts (MySQL XA).
pub const MAX_LEN: usize = 64;

/// One distributed transaction: the proxy instance that coordinates it and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId {
    /// The coordinator instance (random per proxy process, 48 bits).
    pub instance: u64,
    /// The transaction's sequence number in that instance.
    pub sequence: u64,
}

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:012x}_{}",
            self.instance & 0xffff_ffff_ffff,
            self.sequence
        )
    }
}

impl TxnId {
    /// Parses the `<instance>_<sequence>` form.
    pub fn parse(text: &str) -> Option<TxnId> {
        let (instance, sequence) = text.split_once('_')?;
        if instance.len() != 12 {
            return None;
        }
        Some(TxnId {
            instance: u64::from_str_radix(instance, 16).ok()?,
            sequence: sequence.parse().ok()?,
        })
    }
}

/// A participant's GID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gid {
    /// The transaction.
    pub txn: TxnId,
    /// The shard this participant is.
    pub participant: u32,
    /// The shard whose decision table holds this transaction's decision.
    pub decision: u32,
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}_p{}_d{}",
            self.txn, self.participant, self.decision
        )
    }
}

impl Gid {
    /// Parses a GID made by [`Gid`]'s `Display`; `None` for anything else (other
    /// applications' prepared transactions are never touched).
    pub fn parse(text: &str) -> Option<Gid> {
        let rest = text.strip_prefix(PREFIX)?;
        let (rest, decision) = rest.rsplit_once("_d")?;
        let (txn, participant) = rest.rsplit_once("_p")?;
        let gid = Gid {
            txn: TxnId::parse(txn)?,
            participant: participant.parse().ok()?,
            decision: decision.parse().ok()?,
        };
        // Only the exact spelling shardwire makes: `_017`, `+1` or upper-case hex in
        // another application's GID must not alias one of ours.
        (gid.to_string() == text).then_some(gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_round_trip_and_fit_mysql() {
        let gid = Gid {
            txn: TxnId {
                instance: 0xffff_ffff_ffff,
                sequence: u64::MAX,
            },
            participant: u32::MAX,
            decision: u32::MAX,
        };
        let text = gid.to_string();
        assert!(text.len() <= MAX_LEN, "{text}");
        assert_eq!(Gid::parse(&text), Some(gid));
        assert_eq!(
            Gid {
                txn: TxnId {
                    instance: 0x3f9a0c1b2d4e,
                    sequence: 17
                },
                participant: 1,
                decision: 0
            }
            .to_string(),
            "sw_3f9a0c1b2d4e_17_p1_d0"
        );
    }

    #[test]
    fn foreign_gids_are_not_ours() {
        for text in [
            "",
            "sw_",
            "sw_zz_1_p1_d0",
            "app_3f9a0c1b2d4e_17_p1_d0",
            "sw_3f9a0c1b2d4e_17_p1",
            "sw_3f9a0c1b2d4e_x_p1_d0",
            "sw_3f9a0c1b2d4e_017_p1_d0",
            "sw_3F9A0C1B2D4E_17_p1_d0",
            "sw_3f9a0c1b2d4e_17_p+1_d0",
        ] {
            assert_eq!(Gid::parse(text), None, "{text}");
        }
    }
}
