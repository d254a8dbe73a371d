//! Training throughput on two reference shapes, in samples per second.
//!
//! Ignored by default because timings need an idle machine and a release
//! build. Run with:
//!
//! ```text
//! cargo test -p onecycle-core --release --test throughput -- --ignored --nocapture
//! ```

use std::sync::atomic::AtomicBool;

use onecycle_core::{
    fit, Activation, FitOptions, Loss, Mlp, OneCycleOptions, Rng, SgdOptions, Targets,
};

struct Case {
    name: &'static str,
    sizes: &'static [usize],
    loss: Loss,
    rows: usize,
    batch_size: usize,
    epochs: usize,
}

const CASES: [Case; 2] = [
    Case {
        name: "784-256-128-10 relu, batch 128",
        sizes: &[784, 256, 128, 10],
        loss: Loss::CrossEntropy,
        rows: 8_000,
        batch_size: 128,
        epochs: 5,
    },
    Case {
        name: "10-64-1 relu, batch 32",
        sizes: &[10, 64, 1],
        loss: Loss::Mse,
        rows: 1_000,
        batch_size: 32,
        epochs: 10,
    },
];

/// Runs of each case and thread count; the table reports their medians.
const REPEATS: usize = 5;

/// Builds random data for `case`: inputs uniform in `[0, 1)`, and uniform
/// classes or values.
fn data(case: &Case) -> (Vec<f32>, Vec<i32>, Vec<f32>) {
    let mut rng = Rng::new(0);
    let inputs = case.sizes[0];
    let outputs = case.sizes[case.sizes.len() - 1];
    let x = (0..case.rows * inputs)
        .map(|_| rng.next_f64() as f32)
        .collect();
    let classes = (0..case.rows)
        .map(|_| rng.below(outputs as u32) as i32)
        .collect();
    let values = (0..case.rows * outputs)
        .map(|_| rng.next_f64() as f32)
        .collect();
    (x, classes, values)
}

/// Trains `case` once and returns the median epoch throughput and the whole
/// run's throughput, in samples per second.
fn measure(case: &Case, threads: usize) -> (f64, f64) {
    let (x, classes, values) = data(case);
    let targets = match case.loss {
        Loss::CrossEntropy => Targets::Classes(&classes),
        _ => Targets::Values(&values),
    };
    let mut model = Mlp::new(case.sizes, Activation::Relu, 0).unwrap();
    let options = FitOptions {
        epochs: case.epochs,
        batch_size: case.batch_size,
        loss: case.loss,
        sgd: SgdOptions {
            momentum: 0.9,
            ..SgdOptions::default()
        },
        schedule: Some(OneCycleOptions {
            max_lr: vec![0.05],
            ..OneCycleOptions::default()
        }),
        threads: Some(threads),
        ..FitOptions::default()
    };

    let cancel = AtomicBool::new(false);
    let history = fit(
        &mut model,
        &x,
        case.rows,
        targets,
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();

    let per_epoch = history
        .epochs
        .iter()
        .map(|e| e.samples_per_second)
        .collect();
    (median(per_epoch), history.samples_per_second)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[ignore = "timing; run with --ignored --nocapture on an idle machine"]
fn training_throughput() {
    println!("| shape | threads | median epoch samples/s | median run samples/s |");
    println!("| --- | --- | --- | --- |");
    for case in &CASES {
        for threads in [1, 2] {
            let runs: Vec<(f64, f64)> = (0..REPEATS).map(|_| measure(case, threads)).collect();
            let epoch = median(runs.iter().map(|run| run.0).collect());
            let run = median(runs.iter().map(|run| run.1).collect());
            println!("| {} | {threads} | {epoch:.0} | {run:.0} |", case.name);
        }
    }
}
