//! Compares `OneCycleLR` with values recorded from PyTorch 1.13's
//! `torch.optim.lr_scheduler.OneCycleLR`.
//!
//! The reference file is `torch_onecycle.json` in the directory named by
//! `ONECYCLE_GOLDEN_DIR`, or else in the first `shared/golden` directory found
//! walking up from this crate's manifest directory.

use std::sync::OnceLock;

use onecycle_core::schedule::OneCycleState;
use onecycle_core::{AnnealStrategy, Error, OneCycleLR, OneCycleOptions};
use serde_json::Value;

mod common;

/// Relative tolerance for values that follow PyTorch's operation order.
///
/// NOTE: an exact comparison (tolerance 0) needs serde_json's
/// `float_roundtrip` feature, because without it serde_json parses some
/// decimals one ulp off.
const RELATIVE_TOLERANCE: f64 = 1e-12;

/// Configurations where PyTorch raises at construction for a reason that
/// does not apply here, with the behaviour this crate has instead.
const CONSTRUCTIBLE_HERE: [&str; 3] = [
    // PyTorch rejects total_steps=10.0 by type, but here total_steps is an integer.
    "total_float",
    // PyTorch rejects the int 0 by type, but pct_start = 0.0 is valid.
    "n10_pct_int0",
    // PyTorch rejects a one-element list for two groups, but here it broadcasts.
    "n10_2groups_mom_len1",
];

fn golden() -> &'static Value {
    static GOLDEN: OnceLock<Value> = OnceLock::new();
    GOLDEN.get_or_init(|| common::load_golden("torch_onecycle.json"))
}

fn configs() -> &'static [Value] {
    golden()["configs"].as_array().expect("configs is an array")
}

fn config_by_id(id: &str) -> &'static Value {
    configs()
        .iter()
        .find(|config| config["id"] == id)
        .unwrap_or_else(|| panic!("config {id} is missing from the reference file"))
}

fn id(config: &Value) -> &str {
    config["id"].as_str().expect("config id is a string")
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().expect("number fits in f64"),
        Value::Bool(true) => 1.0,
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("expected a number, got {other}"),
    }
}

fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().map(number).collect(),
        scalar => vec![number(scalar)],
    }
}

/// Converts an integral JSON number (or PyTorch's `True`, which it accepts
/// as 1) to a count.
fn count(value: &Value) -> usize {
    let x = number(value);
    assert!(
        x >= 0.0 && x.fract() == 0.0,
        "expected an integral count, got {value}"
    );
    x as usize
}

fn is_close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= RELATIVE_TOLERANCE * expected.abs().max(f64::MIN_POSITIVE)
}

/// Maps PyTorch's `OneCycleLR` keyword arguments to options for `groups`
/// parameter groups.
fn options_from_kwargs(kwargs: &Value, groups: usize) -> Result<OneCycleOptions, Error> {
    let mut options = OneCycleOptions {
        groups: Some(groups),
        ..OneCycleOptions::default()
    };
    let kwargs = kwargs.as_object().expect("scheduler_kwargs is an object");
    for (key, value) in kwargs {
        match key.as_str() {
            "max_lr" => options.max_lr = numbers(value),
            "total_steps" => options.total_steps = Some(count(value)),
            "epochs" => options.epochs = Some(count(value)),
            "steps_per_epoch" => options.steps_per_epoch = Some(count(value)),
            "pct_start" => options.pct_start = number(value),
            "anneal_strategy" => {
                let name = value.as_str().expect("anneal_strategy is a string");
                options.anneal_strategy = name.parse::<AnnealStrategy>()?;
            }
            "cycle_momentum" => options.cycle_momentum = value.as_bool().expect("a bool"),
            "base_momentum" => options.base_momentum = numbers(value),
            "max_momentum" => options.max_momentum = numbers(value),
            "div_factor" => options.div_factor = number(value),
            "final_div_factor" => options.final_div_factor = number(value),
            "three_phase" => options.three_phase = value.as_bool().expect("a bool"),
            "last_epoch" => options.last_epoch = value.as_i64().expect("an integer"),
            other => panic!("unknown scheduler argument {other}"),
        }
    }
    Ok(options)
}

fn group_count(config: &Value) -> usize {
    config["optimizer"]["groups"]
        .as_array()
        .expect("optimizer groups is an array")
        .len()
}

fn options_for(config: &Value, kwargs_key: &str) -> Result<OneCycleOptions, Error> {
    options_from_kwargs(&config[kwargs_key], group_count(config))
}

fn build(config: &Value) -> Result<OneCycleLR, Error> {
    OneCycleLR::new(&options_for(config, "scheduler_kwargs")?)
}

fn construct_ok(config: &Value) -> bool {
    config["construct"]["ok"] == true
}

fn is_resume(config: &Value) -> bool {
    id(config).starts_with("resume_")
}

/// Returns the current value of `field` for each group, or `None` where the
/// schedule does not set that field.
fn current_values(schedule: &OneCycleLR, field: &str) -> Option<Vec<f64>> {
    match field {
        "lr" => Some(schedule.last_lr().to_vec()),
        "momentum" | "beta1" => schedule.last_momentum().map(<[f64]>::to_vec),
        // beta2 is never scheduled.
        _ => None,
    }
}

/// Compares the current values with `sequence[field][group][position]` for
/// every field, records each mismatch in `failures`, and returns the number
/// of values compared.
fn compare_current(
    label: &str,
    schedule: &OneCycleLR,
    sequence: &Value,
    position: usize,
    failures: &mut Vec<String>,
) -> usize {
    let mut checked = 0;
    let fields = sequence.as_object().expect("sequence is an object");
    for (field, per_group) in fields {
        let Some(actual) = current_values(schedule, field) else {
            continue;
        };
        let per_group = per_group.as_array().expect("groups array");
        assert_eq!(
            actual.len(),
            per_group.len(),
            "{label}: group count of {field}"
        );
        for (group, expected) in per_group.iter().enumerate() {
            let expected = number(&expected[position]);
            checked += 1;
            if !is_close(actual[group], expected) {
                failures.push(format!(
                    "{label}: {field}[group {group}] at index {}: ours {:?}, PyTorch {expected:?}",
                    schedule.last_epoch(),
                    actual[group]
                ));
            }
        }
    }
    checked
}

fn sequence_len(sequence: &Value) -> usize {
    sequence["lr"][0]
        .as_array()
        .expect("lr sequence is an array")
        .len()
}

/// Steps `schedule` to `total_steps` and checks that the value at the final
/// index is the value at `total_steps - 1`, and that one more step fails without
/// changing anything.
fn check_end_of_schedule(label: &str, schedule: &mut OneCycleLR, failures: &mut Vec<String>) {
    let total = schedule.total_steps();
    while schedule.last_epoch() < total {
        if let Err(e) = schedule.step() {
            failures.push(format!(
                "{label}: step to {} failed: {e}",
                schedule.last_epoch() + 1
            ));
            return;
        }
    }
    for group in 0..schedule.groups() {
        if schedule.last_lr()[group] != schedule.lr_at(total - 1, group) {
            failures.push(format!(
                "{label}: lr[group {group}] at index {total} is not the final value"
            ));
        }
        let momentum = schedule.last_momentum().map(|m| m[group]);
        if momentum != schedule.momentum_at(total - 1, group) {
            failures.push(format!(
                "{label}: momentum[group {group}] at index {total} is not the final value"
            ));
        }
    }
    let before = schedule.clone();
    match schedule.step() {
        Err(Error::StepPastEnd(message)) => {
            let expected = format!("called {} times, but total_steps is {total}", total + 1);
            if !message.contains(&expected) {
                failures.push(format!(
                    "{label}: over-step message {message:?} lacks {expected:?}"
                ));
            }
        }
        other => failures.push(format!("{label}: over-step returned {other:?}")),
    }
    if *schedule != before {
        failures.push(format!(
            "{label}: the failed over-step changed the schedule"
        ));
    }
}

fn assert_no_failures(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn sequences_match_pytorch() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut compared_configs = 0;
    for config in configs() {
        if is_resume(config) || !construct_ok(config) {
            continue;
        }
        let label = id(config);
        let sequence = &config["sequence"];
        let mut schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        let total = schedule.total_steps();
        // Index `total` is PyTorch's extrapolation past the cycle, and a
        // shorter sequence ends where PyTorch failed.
        let compared = sequence_len(sequence).min(total);
        for position in 0..compared {
            if position > 0 {
                schedule.step().unwrap_or_else(|e| panic!("{label}: {e}"));
            }
            checked += compare_current(label, &schedule, sequence, position, &mut failures);
        }
        check_end_of_schedule(label, &mut schedule, &mut failures);
        compared_configs += 1;
    }
    assert_no_failures(&failures);
    assert!(
        compared_configs >= 30,
        "only {compared_configs} configs compared"
    );
    assert!(checked > 2000, "only {checked} values compared");
}

#[test]
fn lr_at_matches_stepped_values() {
    for config in configs() {
        if is_resume(config) || !construct_ok(config) {
            continue;
        }
        let label = id(config);
        let mut schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        let reference = schedule.clone();
        loop {
            let index = schedule.last_epoch();
            for group in 0..schedule.groups() {
                assert_eq!(
                    schedule.last_lr()[group],
                    reference.lr_at(index, group),
                    "{label}"
                );
                let momentum = schedule.last_momentum().map(|m| m[group]);
                assert_eq!(momentum, reference.momentum_at(index, group), "{label}");
            }
            if schedule.step().is_err() {
                break;
            }
        }
        assert_eq!(schedule.last_epoch(), schedule.total_steps(), "{label}");
    }
}

#[test]
fn partial_pytorch_runs_complete_here() {
    let mut partial = 0;
    for config in configs() {
        if is_resume(config) || config["step_error"].is_null() || !construct_ok(config) {
            continue;
        }
        let label = id(config);
        let steps_completed = count(&config["steps_completed"]);
        assert_eq!(
            sequence_len(&config["sequence"]),
            steps_completed + 1,
            "{label}"
        );
        let mut schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        for _ in 0..schedule.total_steps() {
            schedule.step().unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        assert!(
            schedule.last_lr().iter().all(|lr| lr.is_finite()),
            "{label}"
        );
        partial += 1;
    }
    assert!(partial > 0, "no config with a PyTorch step error");
}

#[test]
fn derived_bounds_match_pytorch() {
    let mut failures = Vec::new();
    for config in configs() {
        if is_resume(config) || !construct_ok(config) {
            continue;
        }
        let label = id(config);
        let derived = &config["derived"];
        let schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            schedule.total_steps(),
            count(&derived["total_steps"]),
            "{label}"
        );

        let expected_ends = numbers(&derived["phase_end_steps"]);
        let actual_ends = schedule.phase_end_steps();
        assert_eq!(
            actual_ends.len(),
            expected_ends.len(),
            "{label}: phase count"
        );
        for (phase, (&actual, &expected)) in actual_ends.iter().zip(&expected_ends).enumerate() {
            if !is_close(actual, expected) {
                failures.push(format!(
                    "{label}: phase {phase} end step: ours {actual:?}, PyTorch {expected:?}"
                ));
            }
        }

        let groups = derived["groups"].as_array().expect("derived groups");
        assert_eq!(schedule.groups(), groups.len(), "{label}: group count");
        let options = schedule.options();
        for (group, expected) in groups.iter().enumerate() {
            let mut bounds = vec![
                ("initial_lr", schedule.initial_lr()[group]),
                ("max_lr", options.max_lr[group]),
                ("min_lr", schedule.min_lr()[group]),
            ];
            if options.cycle_momentum {
                bounds.push(("base_momentum", options.base_momentum[group]));
                bounds.push(("max_momentum", options.max_momentum[group]));
            }
            for (name, actual) in bounds {
                let expected = number(&expected[name]);
                if !is_close(actual, expected) {
                    failures.push(format!(
                        "{label}: {name}[group {group}]: ours {actual:?}, PyTorch {expected:?}"
                    ));
                }
            }
        }
    }
    assert_no_failures(&failures);
}

/// Runs every step of `schedule` and checks that each value is finite and
/// within the bounds of its group.
fn check_finite_within_bounds(label: &str, schedule: &mut OneCycleLR) {
    let options = schedule.options().clone();
    loop {
        for group in 0..schedule.groups() {
            let lr_bounds = [
                schedule.initial_lr()[group],
                options.max_lr[group],
                schedule.min_lr()[group],
            ];
            check_within(label, schedule, "lr", schedule.last_lr()[group], &lr_bounds);
            if let Some(momentum) = schedule.last_momentum() {
                let momentum_bounds = [options.base_momentum[group], options.max_momentum[group]];
                check_within(
                    label,
                    schedule,
                    "momentum",
                    momentum[group],
                    &momentum_bounds,
                );
            }
        }
        if schedule.last_epoch() == schedule.total_steps() {
            break;
        }
        schedule.step().unwrap_or_else(|e| panic!("{label}: {e}"));
    }
}

fn check_within(label: &str, schedule: &OneCycleLR, field: &str, value: f64, bounds: &[f64]) {
    let low = bounds.iter().copied().fold(f64::INFINITY, f64::min);
    let high = bounds.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let slack = RELATIVE_TOLERANCE * high.abs();
    assert!(
        value.is_finite() && value >= low - slack && value <= high + slack,
        "{label}: {field} {value:?} at index {} is outside [{low:?}, {high:?}]",
        schedule.last_epoch()
    );
}

fn is_zero_width_failure(config: &Value) -> bool {
    let final_div_zero = config["scheduler_kwargs"]["final_div_factor"] == 0.0;
    config["construct"]["type"] == "ZeroDivisionError" && !final_div_zero
}

#[test]
fn zero_width_phases_construct_here() {
    let mut degenerate = 0;
    for config in configs() {
        if is_resume(config) || construct_ok(config) || !is_zero_width_failure(config) {
            continue;
        }
        let label = id(config);
        let mut schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        check_finite_within_bounds(label, &mut schedule);
        degenerate += 1;
    }
    assert!(degenerate >= 3, "only {degenerate} zero-width configs");
}

#[test]
fn zero_width_warmup_starts_at_max_lr() {
    // pct_start * total_steps == 1 puts the warm-up end at step 0, where
    // PyTorch divides 0 by 0. Here step 0 gets the warm-up's end values.
    let config = config_by_id("n10_pct0.1");
    let schedule = build(config).expect("zero-width warm-up constructs");
    assert_eq!(schedule.phase_end_steps()[0], 0.0);
    assert_eq!(schedule.last_lr(), schedule.options().max_lr.as_slice());
    assert_eq!(
        schedule.last_momentum(),
        Some(schedule.options().base_momentum.as_slice())
    );
}

#[test]
fn pytorch_construction_errors_are_errors_here() {
    let mut rejected = 0;
    for config in configs() {
        let label = id(config);
        if is_resume(config) || construct_ok(config) || is_zero_width_failure(config) {
            continue;
        }
        if CONSTRUCTIBLE_HERE.contains(&label) {
            continue;
        }
        match build(config) {
            Err(Error::InvalidOption(_)) => rejected += 1,
            other => panic!("{label}: PyTorch raised, but ours returned {other:?}"),
        }
    }
    assert!(rejected >= 5, "only {rejected} configs rejected");
}

#[test]
fn type_only_rejections_construct_here() {
    for label in CONSTRUCTIBLE_HERE {
        let config = config_by_id(label);
        assert!(!construct_ok(config), "{label}: PyTorch constructed it");
        let mut schedule = build(config).unwrap_or_else(|e| panic!("{label}: {e}"));
        check_finite_within_bounds(label, &mut schedule);
    }
}

#[test]
fn total_float_uses_integer_total() {
    let schedule = build(config_by_id("total_float")).expect("total_steps 10 constructs");
    assert_eq!(schedule.total_steps(), 10);
}

#[test]
fn pct_start_zero_starts_in_decay() {
    // With pct_start = 0 the warm-up ends at step -1, so every step is in
    // the decay phase, which starts at step -1.
    let schedule = build(config_by_id("n10_pct_int0")).expect("pct_start 0.0 constructs");
    assert_eq!(schedule.options().pct_start, 0.0);
    assert_eq!(schedule.phase_end_steps(), vec![-1.0, 9.0]);
    assert!(schedule.last_lr()[0] < schedule.options().max_lr[0]);
}

#[test]
fn one_element_momentum_list_broadcasts() {
    let schedule = build(config_by_id("n10_2groups_mom_len1")).expect("broadcast constructs");
    assert_eq!(schedule.options().base_momentum, vec![0.85, 0.85]);
    let momentum = schedule.last_momentum().expect("momentum cycles");
    assert_eq!(momentum[0], momentum[1]);
}

#[test]
fn total_bool_true_is_one_step() {
    let config = config_by_id("total_bool_true");
    assert!(construct_ok(config));
    let schedule = build(config).expect("total_steps 1 constructs");
    assert_eq!(schedule.total_steps(), 1);
}

#[test]
fn final_div_factor_zero_is_rejected() {
    let config = config_by_id("n10_finaldiv0");
    assert_eq!(config["construct"]["type"], "ZeroDivisionError");
    assert_eq!(
        build(config).unwrap_err(),
        Error::InvalidOption(
            "invalid final_div_factor: expected a finite number > 0, but got 0".to_string()
        )
    );
}

#[test]
fn error_messages() {
    let cases = [
        (
            "n10_pct1.5",
            "invalid pct_start: expected a number in [0, 1], but got 1.5",
        ),
        (
            "n10_pct30",
            "invalid pct_start: expected a number in [0, 1], but got 30",
        ),
        (
            "epochs_only",
            "missing steps_per_epoch: epochs = 3 is set, so set steps_per_epoch too, or set \
             total_steps instead",
        ),
        (
            "anneal_typo",
            "invalid anneal_strategy: expected 'cos' or 'linear', but got 'cosine'",
        ),
    ];
    for (label, expected) in cases {
        let error = build(config_by_id(label)).unwrap_err();
        assert_eq!(error, Error::InvalidOption(expected.to_string()), "{label}");
    }
}

#[test]
fn step_past_end_message() {
    let mut schedule = build(config_by_id("n10_default")).expect("n10_default constructs");
    for _ in 0..10 {
        schedule.step().expect("ten steps fit");
    }
    assert_eq!(
        schedule.step().unwrap_err().to_string(),
        "OneCycleLR.step() was called 11 times, but total_steps is 10, so the schedule has no \
         value for step 11. Set total_steps (or epochs * steps_per_epoch) to at least the \
         number of optimizer steps in the run."
    );
}

/// Rebuilds the scheduler of a `resume_*` config as its `resume.mode`
/// describes, after `split` finished steps.
fn resume(config: &Value, split: usize) -> OneCycleLR {
    let label = id(config);
    let options =
        options_for(config, "scheduler_kwargs").unwrap_or_else(|e| panic!("{label}: {e}"));
    let mode = config["resume"]["mode"].as_str().expect("resume mode");
    let resume_at = |last_epoch: usize| {
        let options = OneCycleOptions {
            last_epoch: last_epoch as i64,
            ..options.clone()
        };
        OneCycleLR::new(&options).unwrap_or_else(|e| panic!("{label}: {e}"))
    };
    match mode {
        "state_dict" => {
            let mut original = OneCycleLR::new(&options).unwrap_or_else(|e| panic!("{label}: {e}"));
            for _ in 0..split {
                original.step().unwrap_or_else(|e| panic!("{label}: {e}"));
            }
            let state: OneCycleState = original.state();
            // PyTorch's load_state_dict replaces whatever the new scheduler
            // was built with, so only the saved state matters here.
            OneCycleLR::from_state(&state).unwrap_or_else(|e| panic!("{label}: {e}"))
        }
        "last_epoch_k_minus_1" | "last_epoch_only_initial_lr" => resume_at(split - 1),
        "last_epoch_k" => resume_at(split),
        other => panic!("{label}: unknown resume mode {other}"),
    }
}

/// Compares the resumed schedule with `sequence`, whose position 0 is the
/// value right after resuming, then checks the end of the schedule.
fn compare_resumed(
    label: &str,
    mut schedule: OneCycleLR,
    sequence: &Value,
    failures: &mut Vec<String>,
) {
    let start = schedule.last_epoch();
    let total = schedule.total_steps();
    let available = sequence_len(sequence);
    for position in 0..available {
        if start + position >= total {
            break;
        }
        if position > 0 {
            schedule.step().unwrap_or_else(|e| panic!("{label}: {e}"));
        }
        compare_current(label, &schedule, sequence, position, failures);
    }
    check_end_of_schedule(label, &mut schedule, failures);
}

#[test]
fn resumed_schedules_match_pytorch() {
    let mut failures = Vec::new();
    let mut resumed_configs = 0;
    for config in configs() {
        if !is_resume(config) {
            continue;
        }
        let label = id(config);
        let split = count(&config["resume"]["split_after_steps"]);
        let schedule = resume(config, split);
        let resumed = &config["resumed"];
        if resumed["construct"]["ok"] == true {
            let expected_start = count(&resumed["info"]["last_epoch_after_resume"]);
            assert_eq!(
                schedule.last_epoch(),
                expected_start,
                "{label}: index after resuming"
            );
            let extra_call = count(&resumed["extra_step"]["call"]);
            assert_eq!(
                schedule.total_steps() - expected_start + 1,
                extra_call,
                "{label}: failing call"
            );
            compare_resumed(label, schedule.clone(), &resumed["sequence"], &mut failures);
        }
        // The uninterrupted run from index `split` on is the reference for
        // every mode that resumes after `split` finished steps.
        if config["resume"]["mode"] != "last_epoch_k" {
            assert_eq!(
                schedule.last_epoch(),
                split,
                "{label}: index after resuming"
            );
            let tail = tail_of(&config["reference_sequence"], split);
            compare_resumed(label, schedule, &tail, &mut failures);
        }
        resumed_configs += 1;
    }
    assert_no_failures(&failures);
    assert!(
        resumed_configs >= 5,
        "only {resumed_configs} resume configs"
    );
}

#[test]
fn resume_without_optimizer_state_succeeds() {
    let config = config_by_id("resume_last_epoch_only_initial_lr");
    assert_eq!(config["resumed"]["construct"]["type"], "KeyError");
    let split = count(&config["resume"]["split_after_steps"]);
    let schedule = resume(config, split);
    let mut failures = Vec::new();
    let tail = tail_of(&config["reference_sequence"], split);
    compare_resumed(id(config), schedule, &tail, &mut failures);
    assert_no_failures(&failures);
}

/// Returns `sequence` without its first `skip` positions.
fn tail_of(sequence: &Value, skip: usize) -> Value {
    let fields = sequence.as_object().expect("sequence is an object");
    let tail = fields
        .iter()
        .map(|(field, per_group)| {
            let groups = per_group.as_array().expect("groups array");
            let cut = groups
                .iter()
                .map(|values| Value::Array(values.as_array().expect("values")[skip..].to_vec()))
                .collect();
            (field.clone(), Value::Array(cut))
        })
        .collect();
    Value::Object(tail)
}

#[test]
fn new_kwargs_are_ignored_on_load() {
    // The saved state decides the schedule, as in PyTorch, where
    // load_state_dict overwrites a scheduler built for 20 steps.
    let config = config_by_id("resume_sd_new_total_ignored");
    let new_kwargs = &config["resume"]["new_scheduler_kwargs"];
    let fresh = OneCycleLR::new(&options_from_kwargs(new_kwargs, 1).expect("new kwargs are valid"))
        .expect("new kwargs construct");
    assert_eq!(fresh.total_steps(), 20);
    let split = count(&config["resume"]["split_after_steps"]);
    let loaded = resume(config, split);
    assert_eq!(
        loaded.total_steps(),
        count(&config["resumed"]["info"]["total_steps_after_resume"])
    );
}

#[test]
fn degenerate_matrix_runs_to_the_end() {
    let matrix = &golden()["degenerate_matrix"];
    let rows = matrix["rows"].as_array().expect("matrix rows");
    let mut cells = 0;
    let mut pytorch_failures = 0;
    for row in rows {
        let total_steps = count(&row["total_steps"]);
        let three_phase = row["three_phase"].as_bool().expect("three_phase is a bool");
        let outcomes = row["outcome"].as_object().expect("outcome is an object");
        for (pct_text, outcome) in outcomes {
            let pct_start: f64 = pct_text.parse().expect("pct_start key is a number");
            let label = format!(
                "matrix total_steps={total_steps} pct_start={pct_text} three_phase={three_phase}"
            );
            let options = OneCycleOptions {
                pct_start,
                three_phase,
                ..OneCycleOptions::new(1.0, total_steps)
            };
            let mut schedule = OneCycleLR::new(&options).unwrap_or_else(|e| panic!("{label}: {e}"));
            check_finite_within_bounds(&label, &mut schedule);
            assert!(schedule.step().is_err(), "{label}: over-step succeeded");
            if outcome != "ok" {
                pytorch_failures += 1;
            }
            cells += 1;
        }
    }
    assert!(cells >= 400, "only {cells} matrix cells");
    assert!(pytorch_failures > 0, "no PyTorch failures in the matrix");
}
