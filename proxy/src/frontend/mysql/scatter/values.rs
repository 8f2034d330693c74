//! The plan's execution-time values (`LIMIT`, `OFFSET`, `HAVING` constants) as the
//! merge reads them: the values of the query's literals (MySQL escapes decoded), or of a
//! prepared statement's parameters.

use shardwire_router::{Literal, ValueRef};

use crate::merge::mysql::params::ParamLiteral;
use crate::merge::{ExecValue, Values};

/// Literal and parameter values of one execution, as text.
pub(super) struct ExecValues {
    literals: Vec<Option<Vec<u8>>>,
    params: Vec<Option<Vec<u8>>>,
}

impl ExecValues {
    /// The values of a query's literals.
    pub(super) fn of_literals(literals: &[Literal<'_>]) -> ExecValues {
        ExecValues {
            literals: literals
                .iter()
                .map(|l| l.value().map(|v| v.into_owned()))
                .collect(),
            params: Vec::new(),
        }
    }

    /// The values of a prepared statement's parameters.
    pub(super) fn of_params(params: &[ParamLiteral]) -> ExecValues {
        ExecValues {
            literals: Vec::new(),
            params: params.iter().map(|p| p.text.clone()).collect(),
        }
    }
}

impl Values for ExecValues {
    fn get(&self, r: &ValueRef) -> Option<ExecValue<'_>> {
        let value = match r {
            ValueRef::Literal(i) => self.literals.get(*i)?,
            ValueRef::Param(n) => self.params.get(usize::from(*n).checked_sub(1)?)?,
            ValueRef::Const(_) => return None,
        };
        Some(ExecValue::Param {
            bytes: value.as_deref(),
            binary: false,
            type_oid: 0,
        })
    }
}
