//! Training throughput on two reference shapes, in samples per second.
//!
//! Ignored by default because timings need an idle machine and a release
//! build. Run with:
//!
//! ```text
//! cargo test -p onecycle-core --release --test throughput -- --ignored --nocapture
//! ```

use std::sync::atomic::AtomicBool;

use onecycle_core::{fit, Activation, FitOptions, Loss, Mlp, OneCycleOptions, Rng, SgdOptions, Targets};

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

/// Trains `case` and returns the median epoch throughput and the whole
/// run's throughput, in samples per second.
fn measure(case: &Case, threads: usize) -> (f64, f64) {
    let mut rng = Rng::new(0);
    let inputs = case.sizes[0];
    let outputs = case.sizes[case.sizes.len() - 1];
    let x: Vec<f32> = (0..case.rows * inputs).map(|_| rng.next_f64() as f32).collect();
    let classes: Vec<i32> = (0..case.rows).map(|_| rng.below(outputs as u32) as i32).collect();
    let values: Vec<f32> = (0..case.rows * outputs).map(|_| rng.next_f64() as f32).collect();
    let targets = match case.loss {
        Loss::CrossEntropy => Targets::Classes(&classes),
        _ => Targets::Values(&values),
    };
    let mut model = Mlp::new(case.sizes, Activation::Relu, 0).unwrap();
    let options = FitOptions {
        epochs: case.epochs,
        batch_size: case.batch_size,
        loss: case.loss,
        sgd: SgdOptions { momentum: 0.9, ..SgdOptions::default() },
        schedule: Some(OneCycleOptions { max_lr: vec![0.05], ..OneCycleOptions::default() }),
        threads: Some(threads),
        ..FitOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let history = fit(&mut model, &x, case.rows, targets, None, &options, &mut |_| {}, &cancel).unwrap();
    let mut per_epoch: Vec<f64> = history.epochs.iter().map(|e| e.samples_per_second).collect();
    per_epoch.sort_by(f64::total_cmp);
    (per_epoch[per_epoch.len() / 2], history.samples_per_second)
}

#[test]
#[ignore = "timing; run with --ignored --nocapture on an idle machine"]
fn training_throughput() {
    println!("| shape | threads | median epoch samples/s | run samples/s |");
    println!("| --- | --- | --- | --- |");
    for case in &CASES {
        for threads in [1, 2] {
            let (median, run) = measure(case, threads);
            println!("| {} | {threads} | {median:.0} | {run:.0} |", case.name);
        }
    }
}
