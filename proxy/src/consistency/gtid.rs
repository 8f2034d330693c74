//! MariaDB GTID positions as the consistency core's ordered positions.
//!
//! A MariaDB position is a list of `domain-server-seqno` triples, one per replication
//! domain (`0-1-42,1-3-7`). Within a domain, sequence numbers only grow along the
//! replication stream, so with a single domain the sequence number orders positions
//! exactly as the stream does and can stand in for an [`Lsn`]: a replica whose
//! `gtid_slave_pos` has sequence number ≥ n has applied every transaction up to n.
//! Several domains (multi-source or parallel-domain setups) have no such single order:
//! such positions read as unknown, and `session` reads then go to the primary rather than
//! risk a stale answer.

use super::Lsn;

/// The position of a single-domain GTID list (`0-1-42` → 42); `None` for an empty list,
/// several domains, or text that is not a GTID list. An empty position (nothing
/// replicated yet) is 0.
pub fn gtid_position(text: &str) -> Option<Lsn> {
    let text = text.trim();
    if text.is_empty() {
        return Some(Lsn(0));
    }
    let mut parts = text.split(',');
    let first = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let mut fields = first.trim().splitn(3, '-');
    let (domain, server, seqno) = (fields.next()?, fields.next()?, fields.next()?);
    domain.parse::<u32>().ok()?;
    server.parse::<u32>().ok()?;
    seqno.parse::<u64>().ok().map(Lsn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_domain_positions_order_by_sequence_number() {
        assert_eq!(gtid_position("0-1-42"), Some(Lsn(42)));
        assert_eq!(gtid_position(" 0-3-7 "), Some(Lsn(7)));
        assert_eq!(gtid_position(""), Some(Lsn(0)));
        assert!(gtid_position("0-1-9") < gtid_position("0-2-10"));
    }

    #[test]
    fn several_domains_or_garbage_are_unknown() {
        assert_eq!(gtid_position("0-1-42,1-2-3"), None);
        assert_eq!(gtid_position("0-1"), None);
        assert_eq!(gtid_position("a-b-c"), None);
        assert_eq!(gtid_position("0-1-x"), None);
        assert_eq!(gtid_position("16/B374D848"), None);
    }
}
