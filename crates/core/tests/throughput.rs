//! Training throughput on two reference shapes, in samples per second, and
//! inference latency for small batches, in microseconds.
//!
//! Ignored by default because timings need an idle machine and a release
//! build. Run with:
//!
//! ```text
//! cargo test -p onecycle-core --release --test throughput -- --ignored --nocapture --test-threads 1
//! ```

use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use ndarray::{Array1, Array2};
use onecycle_core::gemm::{self, LinearShape};
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
fn data(case: &Case) -> (Array2<f32>, Array1<i32>, Array2<f32>) {
    let mut rng = Rng::new(0);
    let inputs = case.sizes[0];
    let outputs = case.sizes[case.sizes.len() - 1];
    let x = Array2::from_shape_simple_fn((case.rows, inputs), || rng.next_f64() as f32);
    let classes = Array1::from_shape_simple_fn(case.rows, || rng.below(outputs as u32) as i32);
    let values = Array2::from_shape_simple_fn((case.rows, outputs), || rng.next_f64() as f32);
    (x, classes, values)
}

/// Trains `case` once and returns the median epoch throughput and the whole
/// run's throughput, in samples per second.
fn measure(case: &Case, threads: usize) -> (f64, f64) {
    let (x, classes, values) = data(case);
    let targets = match case.loss {
        Loss::CrossEntropy => Targets::Classes(classes.view()),
        _ => Targets::Values(values.view()),
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
        x.view(),
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

/// Networks whose inference latency is timed.
const PREDICT_SIZES: [&[usize]; 2] = [&[784, 128, 10], &[784, 1024, 1024, 10]];

/// Layers, as `(inputs, outputs)`, whose two forward paths are compared.
/// Each has more than `gemm::NARROW_OUTPUTS` outputs, so
/// [`gemm::linear_forward`] calls `sgemm` for it.
const LAYERS: [(usize, usize); 4] = [(32, 64), (784, 128), (784, 1024), (1024, 1024)];

/// Batch sizes of the latency tables.
const SMALL_BATCHES: [usize; 8] = [1, 2, 4, 6, 8, 12, 16, 32];

/// Timing samples per measurement; the tables report their medians.
const SAMPLES: usize = 21;

/// Returns the median time of one call of `f`, in microseconds, over
/// `SAMPLES` samples that each repeat `f` for about a millisecond.
fn median_micros(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64();
    let repeats = ((1e-3 / once.max(1e-9)) as usize).clamp(1, 10_000);
    let mut samples: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..repeats {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / repeats as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[SAMPLES / 2]
}

fn uniform_matrix(rng: &mut Rng, rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || (rng.next_f64() * 2.0 - 1.0) as f32)
}

#[test]
#[ignore = "timing; run with --ignored --nocapture on an idle machine"]
fn predict_latency() {
    println!("| network | rows | median µs per predict |");
    println!("| --- | --- | --- |");
    let mut rng = Rng::new(1);
    for sizes in PREDICT_SIZES {
        let model = Mlp::new(sizes, Activation::Relu, 0).unwrap();
        for rows in SMALL_BATCHES {
            let x = uniform_matrix(&mut rng, rows, sizes[0]);
            let micros = median_micros(|| {
                black_box(model.predict(black_box(x.view())).unwrap());
            });
            println!("| {sizes:?} relu | {rows} | {micros:.1} |");
        }
    }
}

/// Times one layer's forward product on `rows` rows by `sgemm` (through
/// [`gemm::linear_forward`]) and by one dot product per output, and checks
/// that both give the same values to within rounding.
fn forward_paths(inputs: usize, outputs: usize, rows: usize, rng: &mut Rng) -> (f64, f64) {
    let shape = LinearShape {
        rows,
        inputs,
        outputs,
    };
    let x = uniform_matrix(rng, rows, inputs);
    let weight = uniform_matrix(rng, outputs, inputs);
    let bias = uniform_matrix(rng, 1, outputs);
    let (x, weight, bias) = (
        x.as_slice().unwrap(),
        weight.as_slice().unwrap(),
        bias.as_slice().unwrap(),
    );
    let mut by_sgemm = vec![0.0; rows * outputs];
    let mut by_dot = vec![0.0; rows * outputs];
    gemm::linear_forward(shape, x, weight, bias, &mut by_sgemm);
    gemm::linear_forward_dot(shape, x, weight, bias, &mut by_dot);
    for (index, (a, b)) in by_sgemm.iter().zip(&by_dot).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + a.abs()),
            "{shape:?} at {index}: {a} vs {b}"
        );
    }
    let sgemm = median_micros(|| gemm::linear_forward(shape, x, weight, bias, &mut by_sgemm));
    let dot = median_micros(|| gemm::linear_forward_dot(shape, x, weight, bias, &mut by_dot));
    (sgemm, dot)
}

#[test]
#[ignore = "timing; run with --ignored --nocapture on an idle machine"]
fn small_batch_forward_paths() {
    let threads = rayon::current_num_threads();
    println!("Forward product of one layer on {threads} threads (the global rayon pool).");
    println!("| inputs × outputs | rows | sgemm µs | dot µs | sgemm / dot |");
    println!("| --- | --- | --- | --- | --- |");
    let mut rng = Rng::new(2);
    for (inputs, outputs) in LAYERS {
        for rows in SMALL_BATCHES {
            let (sgemm, dot) = forward_paths(inputs, outputs, rows, &mut rng);
            let ratio = sgemm / dot;
            println!("| {inputs} × {outputs} | {rows} | {sgemm:.1} | {dot:.1} | {ratio:.2} |");
        }
    }
}
