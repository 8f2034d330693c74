//! Where the merge finds values known only per execution (`LIMIT`, `OFFSET`, ordinals,
//! `HAVING` constants): the query string's literals, or the Bind message's parameters.

use shardwire_router::{Literal, ValueRef};

use crate::merge::{ExecValue, Values};
use crate::protocol::pg::read::Bind;

/// The literals of a simple-protocol query string.
pub(super) struct LiteralValues<'a>(pub &'a [Literal<'a>]);

impl Values for LiteralValues<'_> {
    fn get(&self, r: &ValueRef) -> Option<ExecValue<'_>> {
        match r {
            // The merge engine reads constants itself.
            ValueRef::Const(_) => None,
            ValueRef::Literal(i) => self.0.get(*i).map(|l| ExecValue::Sql(l.text)),
            ValueRef::Param(_) => None,
        }
    }
}

/// The parameters of a Bind message.
pub(super) struct BindValues<'a> {
    /// The message.
    pub bind: &'a Bind<'a>,
    /// The statement's declared parameter types.
    pub types: &'a [u32],
}

impl Values for BindValues<'_> {
    fn get(&self, r: &ValueRef) -> Option<ExecValue<'_>> {
        match r {
            // The merge engine reads constants itself.
            ValueRef::Const(_) => None,
            ValueRef::Literal(_) => None,
            ValueRef::Param(n) => {
                let i = usize::from(*n).checked_sub(1)?;
                Some(ExecValue::Param {
                    bytes: self.bind.value(i)?,
                    binary: self.bind.is_binary(i),
                    type_oid: self.types.get(i).copied().unwrap_or(0),
                })
            }
        }
    }
}
