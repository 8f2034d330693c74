//! The plan cache: parse a statement shape once, route it many times.
//!
//! Keys are statement texts — normalized text for the simple protocol, the exact text
//! plus declared parameter types for prepared statements — and values shared plans. The
//! cache is split into 16 independently locked shards so that sessions on different
//! threads rarely meet on one lock; a hit takes one read lock and clones an `Arc`. The
//! lookup hashes the key once (a fast keyed hash, see `KeyedHash`) and compares the
//! stored text, so it allocates nothing.
//!
//! Bounded: when a shard is full, inserting evicts with a one-pass second-chance scan —
//! an entry used since the last scan is spared once, the first unused one goes. Counters
//! (hits, misses, evictions) are kept for metrics.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::plan::Plan;

/// Number of independently locked parts.
const PARTS: usize = 16;

/// Cache counters, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found a plan.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Plans dropped to make room.
    pub evictions: u64,
    /// Plans held now.
    pub entries: usize,
}

impl std::ops::Add for CacheStats {
    type Output = CacheStats;

    fn add(self, other: CacheStats) -> CacheStats {
        CacheStats {
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
            evictions: self.evictions + other.evictions,
            entries: self.entries + other.entries,
        }
    }
}

/// One cached plan with its full key.
#[derive(Debug)]
struct Entry {
    text: Box<str>,
    param_types: Box<[u32]>,
    plan: Arc<Plan>,
    /// Set on every hit; cleared by the eviction scan (second chance).
    used: AtomicBool,
}

/// Hash → entries with that hash (almost always one).
type Buckets = HashMap<u64, Vec<Entry>, BuildHasherDefault<PassThroughHasher>>;

/// One locked part of the cache, on its own cache line with its counters.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Part {
    buckets: RwLock<Buckets>,
    len: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

/// A bounded map from statement text (+ parameter types) to plan.
#[derive(Debug)]
pub(crate) struct PlanCache {
    hasher: KeyedHash,
    parts: Box<[Part]>,
    part_capacity: usize,
}

impl PlanCache {
    /// A cache holding at most about `capacity` plans (at least one per part).
    pub fn new(capacity: usize) -> PlanCache {
        PlanCache {
            hasher: KeyedHash::random(),
            parts: (0..PARTS).map(|_| Part::default()).collect(),
            part_capacity: capacity.div_ceil(PARTS).max(1),
        }
    }

    fn hash(&self, text: &str, param_types: &[u32]) -> u64 {
        self.hasher.hash(text.as_bytes(), param_types)
    }

    fn part(&self, hash: u64) -> &Part {
        // The high bits pick the part; the map uses the whole hash.
        &self.parts[(hash >> 60) as usize % PARTS]
    }

    /// The plan cached for `text` and `param_types`.
    pub fn get(&self, text: &str, param_types: &[u32]) -> Option<Arc<Plan>> {
        let hash = self.hash(text, param_types);
        let part = self.part(hash);
        let found = {
            let buckets = part.buckets.read().unwrap_or_else(|e| e.into_inner());
            buckets.get(&hash).and_then(|entries| {
                entries
                    .iter()
                    .find(|e| &*e.text == text && &*e.param_types == param_types)
                    .map(|e| {
                        if !e.used.load(Ordering::Relaxed) {
                            e.used.store(true, Ordering::Relaxed);
                        }
                        Arc::clone(&e.plan)
                    })
            })
        };
        let counter = if found.is_some() {
            &part.hits
        } else {
            &part.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Caches `plan` for `text` and `param_types` and returns the cached plan (an
    /// equal one cached meanwhile by another session wins).
    pub fn insert(&self, text: &str, param_types: &[u32], plan: Arc<Plan>) -> Arc<Plan> {
        let hash = self.hash(text, param_types);
        let part = self.part(hash);
        let mut buckets = part.buckets.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = buckets.get(&hash).and_then(|entries| {
            entries
                .iter()
                .find(|e| &*e.text == text && &*e.param_types == param_types)
        }) {
            return Arc::clone(&existing.plan);
        }
        if part.len.load(Ordering::Relaxed) as usize >= self.part_capacity
            && evict_one(&mut buckets)
        {
            part.len.fetch_sub(1, Ordering::Relaxed);
            part.evictions.fetch_add(1, Ordering::Relaxed);
        }
        buckets.entry(hash).or_default().push(Entry {
            text: text.into(),
            param_types: param_types.into(),
            plan: Arc::clone(&plan),
            used: AtomicBool::new(false),
        });
        part.len.fetch_add(1, Ordering::Relaxed);
        plan
    }

    /// The counters, summed over the parts.
    pub fn stats(&self) -> CacheStats {
        self.parts
            .iter()
            .map(|part| CacheStats {
                hits: part.hits.load(Ordering::Relaxed),
                misses: part.misses.load(Ordering::Relaxed),
                evictions: part.evictions.load(Ordering::Relaxed),
                entries: part.len.load(Ordering::Relaxed) as usize,
            })
            .fold(CacheStats::default(), |sum, part| sum + part)
    }
}

/// Removes the first entry not used since the last scan, clearing the marks it passes;
/// if every entry was used, the first one. Returns whether it removed one.
fn evict_one(buckets: &mut Buckets) -> bool {
    let mut first_used = None;
    let mut victim = None;
    'scan: for (hash, entries) in buckets.iter() {
        for (index, entry) in entries.iter().enumerate() {
            if entry.used.swap(false, Ordering::Relaxed) {
                first_used.get_or_insert((*hash, index));
            } else {
                victim = Some((*hash, index));
                break 'scan;
            }
        }
    }
    let Some((hash, index)) = victim.or(first_used) else {
        return false;
    };
    if let Some(entries) = buckets.get_mut(&hash) {
        entries.swap_remove(index);
        if entries.is_empty() {
            buckets.remove(&hash);
        }
    }
    true
}

/// A keyed multiply-fold hash over 8-byte words (in the style of foldhash): about ten
/// times faster than SipHash on statement texts, which matters on the cached path. It is
/// not collision-resistant against an attacker who could learn its random keys; a
/// collision only lengthens one bucket's scan, and buckets are bounded by the cache size.
#[derive(Debug, Clone, Copy)]
struct KeyedHash {
    keys: [u64; 3],
}

impl KeyedHash {
    /// Keys drawn from the process's random hash seed.
    fn random() -> KeyedHash {
        let state = RandomState::new();
        let key = |n: u64| {
            let mut hasher = state.build_hasher();
            hasher.write_u64(n);
            hasher.finish() | 1
        };
        KeyedHash {
            keys: [key(1), key(2), key(3)],
        }
    }

    fn hash(&self, bytes: &[u8], param_types: &[u32]) -> u64 {
        let [k0, k1, k2] = self.keys;
        let mut h = k2 ^ bytes.len() as u64;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            h = folded_multiply(w ^ k0, h ^ k1);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = folded_multiply(u64::from_le_bytes(last) ^ k0, h ^ k1);
        }
        for &oid in param_types {
            h = folded_multiply(u64::from(oid) ^ k1, h ^ k0);
        }
        folded_multiply(h, k2)
    }
}

/// The full 128-bit product of `a` and `b`, folded to 64 bits.
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// The cache keys are already hash values: the map uses them as they are.
#[derive(Debug, Default)]
struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
