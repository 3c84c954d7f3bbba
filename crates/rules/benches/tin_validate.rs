//! Throughput of `check_tin` over 1,000,000 mixed inputs (plain `harness = false` bench).
//!
//! Run: `cargo bench -p masspay-tax-rules --bench tin_validate`.

use masspay_tax_rules::tin::{TinRules, TinStatus, TinType, check_tin};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 1_000_000;

/// Tiny deterministic xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One input text and a declared type (some inputs come with a W-9 type).
fn sample(rng: &mut Rng) -> (String, Option<TinType>) {
    match rng.below(10) {
        // Valid-looking SSN in dashed form.
        0 | 1 => (
            format!(
                "{:03}-{:02}-{:04}",
                1 + rng.below(899),
                1 + rng.below(99),
                1 + rng.below(9999)
            ),
            None,
        ),
        // ITIN in an IRS range, spaces.
        2 => (
            format!(
                "9{:02} {:02} {:04}",
                rng.below(100),
                50 + rng.below(16),
                rng.below(10000)
            ),
            None,
        ),
        // EIN form, any prefix (some invalid).
        3 | 4 => (
            format!("{:02}-{:07}", rng.below(100), rng.below(10_000_000)),
            None,
        ),
        // Bare number, no type: ambiguous.
        5 => (format!("{:09}", rng.below(1_000_000_000)), None),
        // Bare number with a declared type.
        6 => (
            format!("{:09}", rng.below(1_000_000_000)),
            Some(if rng.below(2) == 0 {
                TinType::Ssn
            } else {
                TinType::Ein
            }),
        ),
        // Malformed: 8 digits, letters.
        7 => (
            format!(
                "{:03}-{:02}-{:03}",
                rng.below(1000),
                rng.below(100),
                rng.below(1000)
            ),
            None,
        ),
        8 => (
            format!("{:03}-AB-{:04}", rng.below(1000), rng.below(10000)),
            None,
        ),
        // Blank.
        _ => ("   ".to_owned(), None),
    }
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let inputs: Vec<(String, Option<TinType>)> = (0..N).map(|_| sample(&mut rng)).collect();
    let rules = TinRules::default();

    // Warm-up pass (not timed).
    for (text, declared) in inputs.iter().take(10_000) {
        black_box(check_tin(Some(text), *declared, &rules));
    }

    let mut counts = [0usize; 4];
    let start = Instant::now();
    for (text, declared) in &inputs {
        let c = check_tin(Some(black_box(text)), *declared, &rules);
        counts[match c.status {
            TinStatus::Valid => 0,
            TinStatus::Invalid => 1,
            TinStatus::Malformed => 2,
            TinStatus::Missing => 3,
        }] += 1;
        black_box(&c);
    }
    let elapsed = start.elapsed();
    let nanos = elapsed.as_nanos().max(1);
    let per_second = (N as u128) * 1_000_000_000 / nanos;
    println!(
        "tin validations: {N} in {} ms = {per_second} per second",
        elapsed.as_millis()
    );
    println!(
        "  valid {} / invalid {} / malformed {} / missing {}",
        counts[0], counts[1], counts[2], counts[3]
    );
}
