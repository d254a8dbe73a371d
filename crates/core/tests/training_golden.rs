//! Replays short PyTorch 1.13 training runs (`nn.Sequential` MLPs, SGD and
//! `OneCycleLR`, batches in order) and compares every step and the final
//! weights with PyTorch's float32 run from the same initial weights.
//!
//! The reference file is `torch_training.json` in the directory named by
//! `ONECYCLE_GOLDEN_DIR`, or else in the first `shared/golden` directory found
//! walking up from this crate's manifest directory.

use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use onecycle_core::{
    fit, Activation, AnnealStrategy, Dense, FitOptions, Loss, Mlp, OneCycleOptions, SgdOptions,
    Targets,
};
use serde_json::Value;

mod common;

/// Relative tolerance of the learning rate and momentum of each step. Both
/// follow PyTorch's f64 arithmetic operation by operation; the tolerance
/// covers serde_json's parsing, which can be one ulp off.
const SCHEDULE_TOLERANCE: f64 = 1e-12;

/// Relative tolerance of each step's loss and of each final tensor (as
/// `‖ours − torch‖ / ‖torch‖`). Both engines compute in float32 but sum
/// matrix products in different orders, which moves results by a few ulps
/// per step. Over these runs of up to 25 steps the largest differences seen
/// are 1.1e-7 for a loss and 2e-6 for a tensor (x86-64, AVX-512 kernels).
const TRAINING_TOLERANCE: f64 = 1e-5;

fn cases() -> Vec<Value> {
    let golden = common::load_golden("torch_training.json");
    golden["cases"]
        .as_array()
        .expect("cases is an array")
        .clone()
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().expect("a finite number"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        other => panic!("expected a number, got {other}"),
    }
}

fn count(value: &Value) -> usize {
    value.as_u64().expect("a non-negative integer") as usize
}

/// Flattens a number or a (nested) array of numbers into f32 values.
fn flatten_f32(value: &Value, out: &mut Vec<f32>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| flatten_f32(item, out)),
        other => out.push(number(other) as f32),
    }
}

fn to_f32(value: &Value) -> Vec<f32> {
    let mut out = Vec::new();
    flatten_f32(value, &mut out);
    out
}

/// Reads a nested `[rows][cols]` list of numbers as a matrix.
fn matrix(value: &Value) -> Array2<f32> {
    let rows = value.as_array().expect("a list of rows").len();
    let values = to_f32(value);
    let cols = values.len().checked_div(rows).unwrap_or(0);
    Array2::from_shape_vec((rows, cols), values).expect("rows of equal length")
}

fn layers(value: &Value) -> Vec<Dense> {
    let layers = value.as_array().expect("a list of layers");
    layers
        .iter()
        .map(|layer| Dense {
            weight: matrix(&layer["weight"]),
            bias: Array1::from_vec(to_f32(&layer["bias"])),
        })
        .collect()
}

fn options(config: &Value, total_steps: usize) -> FitOptions {
    let optimizer = &config["optimizer"];
    let schedule = &config["schedule"];
    let anneal: AnnealStrategy = schedule["anneal_strategy"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    FitOptions {
        epochs: count(&config["epochs"]),
        batch_size: count(&config["batch_size"]),
        loss: config["loss"].as_str().unwrap().parse().unwrap(),
        sgd: SgdOptions {
            lr: number(&schedule["max_lr"]),
            momentum: number(&optimizer["momentum"]),
            dampening: number(&optimizer["dampening"]),
            nesterov: optimizer["nesterov"].as_bool().unwrap(),
            weight_decay: number(&optimizer["weight_decay"]),
        },
        schedule: Some(OneCycleOptions {
            pct_start: number(&schedule["pct_start"]),
            anneal_strategy: anneal,
            cycle_momentum: schedule["cycle_momentum"].as_bool().unwrap(),
            base_momentum: vec![number(&schedule["base_momentum"])],
            max_momentum: vec![number(&schedule["max_momentum"])],
            div_factor: number(&schedule["div_factor"]),
            final_div_factor: number(&schedule["final_div_factor"]),
            three_phase: schedule["three_phase"].as_bool().unwrap(),
            ..OneCycleOptions::new(number(&schedule["max_lr"]), total_steps)
        }),
        shuffle: false,
        drop_last: config["drop_last"].as_bool().unwrap(),
        record_steps: true,
        ..FitOptions::default()
    }
}

fn relative_error(ours: f64, reference: f64) -> f64 {
    (ours - reference).abs() / reference.abs().max(f64::MIN_POSITIVE)
}

/// `‖ours − reference‖ / ‖reference‖` in f64.
fn relative_norm_error(ours: &[f32], reference: &[f32]) -> f64 {
    let pairs = ours.iter().zip(reference);
    let diff: f64 = pairs
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    let norm: f64 = reference.iter().map(|&b| f64::from(b).powi(2)).sum();
    (diff / norm).sqrt()
}

/// Trains one case and returns a line per mismatch.
fn replay(case: &Value) -> Vec<String> {
    let config = &case["config"];
    let name = config["name"].as_str().unwrap();
    let float64 = &case["float64"];
    let float32 = &case["float32"];
    let sizes: Vec<usize> = config["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(count)
        .collect();
    let activation: Activation = config["activation"].as_str().unwrap().parse().unwrap();
    let expected_steps = float32["steps"].as_array().unwrap();
    let options = options(config, expected_steps.len());

    let mut model = Mlp::new(&sizes, activation, 0).unwrap();
    model.set_weights(&layers(&float64["init"])).unwrap();
    let x = matrix(&float64["X"]);
    let outputs = sizes[sizes.len() - 1];
    let classes: Vec<i32>;
    let values: Vec<f32>;
    let targets = if options.loss == Loss::CrossEntropy {
        classes = float64["y"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| count(v) as i32)
            .collect();
        Targets::Classes(ArrayView1::from(&classes))
    } else {
        values = to_f32(&float64["y"]);
        Targets::Values(ArrayView2::from_shape((x.nrows(), outputs), &values).unwrap())
    };

    let cancel = AtomicBool::new(false);
    let history = fit(
        &mut model,
        x.view(),
        targets,
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap_or_else(|e| panic!("{name}: fit failed: {e}"));
    let steps = history.steps.expect("record_steps is on");

    let mut failures = Vec::new();
    if steps.lr.len() != expected_steps.len() {
        failures.push(format!(
            "{name}: {} steps, PyTorch took {}",
            steps.lr.len(),
            expected_steps.len()
        ));
    }
    for (t, expected) in expected_steps.iter().enumerate().take(steps.lr.len()) {
        let checks = [
            (
                "lr",
                steps.lr[t],
                number(&expected["lr"]),
                SCHEDULE_TOLERANCE,
            ),
            (
                "momentum",
                steps.momentum[t],
                number(&expected["momentum"]),
                SCHEDULE_TOLERANCE,
            ),
            (
                "loss",
                steps.loss[t],
                number(&expected["loss"]),
                TRAINING_TOLERANCE,
            ),
        ];
        for (field, ours, reference, tolerance) in checks {
            let error = relative_error(ours, reference);
            if error.is_nan() || error > tolerance {
                failures.push(format!(
                    "{name}: step {t} {field} is {ours}, PyTorch {reference} (relative error {error:.3e})"
                ));
            }
        }
    }

    let expected_final = layers(&float32["final"]);
    for (l, (ours, reference)) in model.weights().iter().zip(&expected_final).enumerate() {
        let tensors = [
            (
                "weight",
                ours.weight.as_slice().unwrap(),
                reference.weight.as_slice().unwrap(),
            ),
            (
                "bias",
                ours.bias.as_slice().unwrap(),
                reference.bias.as_slice().unwrap(),
            ),
        ];
        for (field, ours, reference) in tensors {
            let error = relative_norm_error(ours, reference);
            if error.is_nan() || error > TRAINING_TOLERANCE {
                failures.push(format!(
                    "{name}: final layer {l} {field} differs by {error:.3e} relative; \
                     ours starts {:?}, PyTorch {:?}",
                    &ours[..ours.len().min(4)],
                    &reference[..reference.len().min(4)]
                ));
            }
        }
    }
    failures
}

#[test]
fn training_matches_pytorch_float32() {
    let cases = cases();
    assert!(!cases.is_empty(), "torch_training.json has no cases");
    let failures: Vec<String> = cases.iter().flat_map(replay).collect();
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn initial_loss_matches_float64_run() {
    // The loss of the first batch, before any update, depends only on the
    // initial weights and the data, so it checks the forward pass and the
    // loss alone against PyTorch's float64 run.
    for case in cases() {
        let config = &case["config"];
        let name = config["name"].as_str().unwrap();
        let float64 = &case["float64"];
        let sizes: Vec<usize> = config["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(count)
            .collect();
        let activation: Activation = config["activation"].as_str().unwrap().parse().unwrap();
        let loss: Loss = config["loss"].as_str().unwrap().parse().unwrap();
        let batch = count(&config["batch_size"]);
        let mut model = Mlp::new(&sizes, activation, 0).unwrap();
        model.set_weights(&layers(&float64["init"])).unwrap();

        let outputs = sizes[sizes.len() - 1];
        let x = matrix(&float64["X"]);
        let x = x.slice(ndarray::s![..batch, ..]);
        let classes: Vec<i32>;
        let values: Vec<f32>;
        let targets = if loss == Loss::CrossEntropy {
            let all = float64["y"].as_array().unwrap();
            classes = all[..batch].iter().map(|v| count(v) as i32).collect();
            Targets::Classes(ArrayView1::from(&classes))
        } else {
            values = to_f32(&float64["y"])[..batch * outputs].to_vec();
            Targets::Values(ArrayView2::from_shape((batch, outputs), &values).unwrap())
        };
        let (ours, _) = model.evaluate(x, targets, loss).unwrap();
        let reference = number(&float64["steps"][0]["loss"]);
        let error = relative_error(ours, reference);
        assert!(
            error < TRAINING_TOLERANCE,
            "{name}: first loss {ours}, PyTorch float64 {reference}"
        );
    }
}
