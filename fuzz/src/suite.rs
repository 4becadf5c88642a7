//! The bounded in-suite fuzz run (part of `cargo test --workspace`): per
//! target, the seeds and regressions, then a fixed number of inputs from a
//! deterministic RNG — mutated seeds and structure-aware generated inputs.
//! `CRIER_FUZZ_CASES=N` changes the number (a longer, non-guided run);
//! AFL++ does the long coverage-guided runs (FUZZING.md).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use crate::corpus::{self, Input};
use crate::runner::{self, Failure, TIME_LIMIT};
use crate::{Target, generate, mutate};

/// Inputs per target in the normal test run (a few seconds in all).
const CASES: u32 = 48;

/// Crashes found in code another branch is fixing: the target, a piece of
/// the panic message, and the reproducing input under
/// `tests/fixtures/fuzz-regressions/<target>/open/`. The random runs count
/// them instead of failing; `open_crashes` (ignored) replays them. Once
/// fixed: move the file up one folder and delete the entry.
const OPEN: &[(Target, &str, &str)] = &[];

fn is_open(target: Target, f: &Failure) -> bool {
    matches!(f, Failure::Panic(m) if OPEN.iter().any(|(t, msg, _)| *t == target && m.contains(msg)))
}

fn cases() -> u32 {
    std::env::var("CRIER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES)
}

fn generated(target: Target) -> BoxedStrategy<Vec<u8>> {
    match target {
        Target::Feed => generate::feed(),
        Target::Wordpress => generate::wordpress(),
        Target::Page => generate::html(),
        Target::Format => generate::article(),
        Target::Config => generate::config(),
        Target::Command => generate::command(),
        Target::Opml => generate::opml(),
    }
}

/// Save a failing input where a developer can pick it up as a regression.
fn save(target: Target, data: &[u8]) -> String {
    let dir = std::env::temp_dir()
        .join("crier-fuzz-failures")
        .join(target.name());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("{h:016x}"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, data)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("(not saved: {e})"),
    }
}

fn fuzz(target: Target) {
    let seeds: Vec<Vec<u8>> = corpus::seeds(target).into_iter().map(|i| i.data).collect();
    let strategy = prop_oneof![
        1 => mutate::mutated(seeds),
        1 => generated(target),
    ];
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 300,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let open_hits = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&strategy, |input| {
        match runner::run(target, &input, TIME_LIMIT) {
            Ok(()) => Ok(()),
            Err(f) if is_open(target, &f) => {
                open_hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Err(f) => Err(TestCaseError::fail(f.to_string())),
        }
    });
    let open_hits = open_hits.into_inner();
    if open_hits > 0 {
        eprintln!(
            "{}: {open_hits} inputs hit known open crashes",
            target.name()
        );
    }
    if let Err(e) = result {
        let detail = match &e {
            proptest::test_runner::TestError::Fail(why, input) => {
                format!(
                    "{why}\nminimal input saved to {} ({} bytes): {:?}",
                    save(target, input),
                    input.len(),
                    String::from_utf8_lossy(&input[..input.len().min(2000)])
                )
            }
            other => other.to_string(),
        };
        panic!("fuzz target {}: {detail}", target.name());
    }
}

fn replay(target: Target, inputs: &[Input]) -> Vec<String> {
    inputs
        .iter()
        .filter_map(|i| {
            runner::run(target, &i.data, TIME_LIMIT)
                .err()
                .map(|f| format!("{}: {f}", i.name))
        })
        .collect()
}

#[test]
fn every_target_has_seeds() {
    for t in Target::ALL {
        assert!(!corpus::seeds(t).is_empty(), "{}: no seed", t.name());
    }
}

#[test]
fn seeds_and_regressions_run_clean() {
    let mut failures = Vec::new();
    for t in Target::ALL {
        failures.extend(replay(t, &corpus::seeds(t)));
        failures.extend(replay(t, &corpus::regressions(t)));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The crashes reported to other branches: fails until they are fixed.
#[test]
#[ignore = "open crashes in code fixed on other branches; run with --ignored"]
fn open_crashes() {
    let mut failures = Vec::new();
    for t in Target::ALL {
        failures.extend(replay(t, &corpus::open_crashes(t)));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The harness itself can fail: a panic and a hang are caught and reported.
#[test]
fn the_runner_reports_panics_and_hangs() {
    assert_eq!(runner::run(Target::Command, b"/help", TIME_LIMIT), Ok(()));
    let r = runner::run_fn("panic", || panic!("boom at {}", 42), TIME_LIMIT);
    assert_eq!(r, Err(Failure::Panic("boom at 42".into())));
    let r = runner::run_fn(
        "hang",
        || std::thread::sleep(std::time::Duration::from_secs(5)),
        std::time::Duration::from_millis(10),
    );
    assert!(matches!(r, Err(Failure::Hang(_))), "{r:?}");
}

#[test]
fn fuzz_feed() {
    fuzz(Target::Feed);
}

#[test]
fn fuzz_wordpress() {
    fuzz(Target::Wordpress);
}

#[test]
fn fuzz_page() {
    fuzz(Target::Page);
}

#[test]
fn fuzz_format() {
    fuzz(Target::Format);
}

#[test]
fn fuzz_config() {
    fuzz(Target::Config);
}

#[test]
fn fuzz_command() {
    fuzz(Target::Command);
}

#[test]
fn fuzz_opml() {
    fuzz(Target::Opml);
}

#[test]
fn every_open_crash_has_its_input() {
    for (t, _, file) in OPEN {
        assert!(
            corpus::open_crashes(*t)
                .iter()
                .any(|i| i.name.ends_with(file)),
            "{}: {file} missing from fuzz-regressions/{}/open/",
            t.name(),
            t.name()
        );
    }
}

/// `CRIER_FUZZ_REPLAY=target:path cargo test -p crier-fuzz replay_one -- --ignored`:
/// run one input file (a crash AFL found) through its target.
#[test]
#[ignore = "runs the input named by CRIER_FUZZ_REPLAY"]
fn replay_one() {
    let spec = std::env::var("CRIER_FUZZ_REPLAY").unwrap_or_default();
    let Some((name, path)) = spec.split_once(':') else {
        panic!("set CRIER_FUZZ_REPLAY=target:path");
    };
    let target = Target::from_name(name).unwrap_or_else(|| panic!("no target {name:?}"));
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if let Err(f) = runner::run(target, &data, TIME_LIMIT) {
        panic!("{name} {path}: {f}");
    }
}

/// `CRIER_FUZZ_SECONDS=1800 CRIER_FUZZ_TARGET=feed cargo test -p crier-fuzz
/// long_run -- --ignored --nocapture`: the in-suite generators and
/// mutations (not coverage-guided) for a wall-clock time; prints the
/// executions and saves every failing input (not shrunk).
#[test]
#[ignore = "long run: set CRIER_FUZZ_TARGET and CRIER_FUZZ_SECONDS"]
fn long_run() {
    use proptest::strategy::ValueTree;
    let name = std::env::var("CRIER_FUZZ_TARGET").unwrap_or_else(|_| "feed".into());
    let target = Target::from_name(&name).unwrap_or_else(|| panic!("no target {name:?}"));
    let secs: u64 = std::env::var("CRIER_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seeds: Vec<Vec<u8>> = corpus::seeds(target).into_iter().map(|i| i.data).collect();
    let strategy = prop_oneof![1 => mutate::mutated(seeds), 1 => generated(target)];
    let seed: u64 = std::env::var("CRIER_FUZZ_RNG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let start = std::time::Instant::now();
    let (mut execs, mut open, mut failures) = (0u64, 0u64, Vec::new());
    while start.elapsed().as_secs() < secs {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let input = tree.current();
        execs += 1;
        match runner::run(target, &input, TIME_LIMIT) {
            Ok(()) => {}
            Err(f) if is_open(target, &f) => open += 1,
            Err(f) => failures.push(format!("{f} → {}", save(target, &input))),
        }
    }
    eprintln!(
        "long run {name}: {execs} executions in {:.0} s, {} failures, {open} known open",
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
