//! Failed transactions counted by error code, with a few messages to show what they were.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::client::DbError;

/// Distinct messages kept per code.
pub const SAMPLES_PER_CODE: usize = 3;

/// Failures of one error code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CodeErrors {
    /// How many.
    pub count: u64,
    /// Up to [`SAMPLES_PER_CODE`] distinct messages, first seen first.
    pub samples: Vec<String>,
}

impl CodeErrors {
    fn sample(&mut self, message: &str) {
        if self.samples.len() < SAMPLES_PER_CODE && !self.samples.iter().any(|m| m == message) {
            self.samples.push(message.to_string());
        }
    }
}

/// Failures by SQLSTATE / MySQL error number (ordered, for stable reports).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorTally {
    by_code: BTreeMap<String, CodeErrors>,
}

impl ErrorTally {
    /// Counts one failure.
    pub fn add(&mut self, error: &DbError) {
        let entry = self.by_code.entry(error.code.clone()).or_default();
        entry.count += 1;
        entry.sample(&error.message);
    }

    /// Adds another client's failures.
    pub fn merge(&mut self, other: &ErrorTally) {
        for (code, theirs) in &other.by_code {
            let ours = self.by_code.entry(code.clone()).or_default();
            ours.count += theirs.count;
            for message in &theirs.samples {
                ours.sample(message);
            }
        }
    }

    /// All failures.
    pub fn total(&self) -> u64 {
        self.by_code.values().map(|e| e.count).sum()
    }

    /// Failures per code.
    pub fn by_code(&self) -> &BTreeMap<String, CodeErrors> {
        &self.by_code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> DbError {
        DbError {
            code: code.into(),
            message: message.into(),
            connection_lost: false,
        }
    }

    #[test]
    fn counts_by_code_and_keeps_three_distinct_samples() {
        let mut tally = ErrorTally::default();
        for i in 0..5 {
            tally.add(&err("40P01", &format!("deadlock {}", i % 4)));
        }
        tally.add(&err("40P01", "deadlock 0"));
        tally.add(&err("1213", "Deadlock found"));
        assert_eq!(tally.total(), 7);
        let deadlocks = &tally.by_code()["40P01"];
        assert_eq!(deadlocks.count, 6);
        assert_eq!(
            deadlocks.samples,
            vec!["deadlock 0", "deadlock 1", "deadlock 2"]
        );
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = ErrorTally::default();
        a.add(&err("1", "x"));
        let mut b = ErrorTally::default();
        b.add(&err("1", "y"));
        b.add(&err("2", "z"));
        a.merge(&b);
        assert_eq!(a.total(), 3);
        assert_eq!(a.by_code()["1"].samples, vec!["x", "y"]);
    }
}
