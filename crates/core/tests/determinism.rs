//! Checks that a run depends only on its seeds and options: the same seed
//! gives the same weights bit for bit, whatever the number of threads.

use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2};
use onecycle_core::gemm::PARALLEL_MIN_WORK;
use onecycle_core::{fit, Activation, Dense, FitOptions, Loss, Mlp, OneCycleOptions, Rng, Targets};

/// Wide enough that the first layer's products split across threads:
/// 64 rows × 64 inputs × 256 outputs is 2^20 multiply-adds.
const SIZES: [usize; 4] = [64, 256, 128, 10];
const BATCH: usize = 64;
const ROWS: usize = 320;

fn data() -> (Array2<f32>, Array1<i32>) {
    let mut rng = Rng::new(99);
    let x = (0..ROWS * SIZES[0])
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect();
    let y = (0..ROWS).map(|_| rng.below(10) as i32).collect();
    (Array2::from_shape_vec((ROWS, SIZES[0]), x).unwrap(), y)
}

fn train(model_seed: u32, shuffle_seed: u32, threads: usize) -> Vec<Dense> {
    let (x, y) = data();
    let mut model = Mlp::new(&SIZES, Activation::Relu, model_seed).unwrap();
    let options = FitOptions {
        epochs: 2,
        batch_size: BATCH,
        loss: Loss::CrossEntropy,
        schedule: Some(OneCycleOptions {
            max_lr: vec![0.1],
            ..OneCycleOptions::default()
        }),
        seed: shuffle_seed,
        threads: Some(threads),
        ..FitOptions::default()
    };
    let cancel = AtomicBool::new(false);
    fit(
        &mut model,
        x.view(),
        Targets::Classes(y.view()),
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    model.weights().to_vec()
}

fn bits(layers: &[Dense]) -> Vec<u32> {
    let values = layers
        .iter()
        .flat_map(|layer| layer.weight.iter().chain(layer.bias.iter()));
    values.map(|v| v.to_bits()).collect()
}

/// Returns the index and both values of the first differing element.
fn first_difference(a: &[u32], b: &[u32]) -> Option<(usize, f32, f32)> {
    let index = a.iter().zip(b).position(|(x, y)| x != y)?;
    Some((index, f32::from_bits(a[index]), f32::from_bits(b[index])))
}

#[test]
fn shape_crosses_parallel_threshold() {
    assert!(BATCH * SIZES[0] * SIZES[1] >= 2 * PARALLEL_MIN_WORK);
}

#[test]
fn same_seed_gives_same_weights() {
    let first = bits(&train(7, 3, 2));
    let second = bits(&train(7, 3, 2));
    assert_eq!(first_difference(&first, &second), None);
}

#[test]
fn thread_count_leaves_weights_unchanged() {
    let one = bits(&train(7, 3, 1));
    for threads in [2, 3] {
        let many = bits(&train(7, 3, threads));
        assert_eq!(first_difference(&one, &many), None, "1 thread vs {threads}");
    }
}

#[test]
fn seeds_change_weights() {
    let base = bits(&train(7, 3, 1));
    assert_ne!(base, bits(&train(8, 3, 1)), "model seed has no effect");
    assert_ne!(base, bits(&train(7, 4, 1)), "shuffle seed has no effect");
}

#[test]
fn initial_weights_follow_seed() {
    let a = Mlp::new(&[3, 2], Activation::Tanh, 5).unwrap();
    let b = Mlp::new(&[3, 2], Activation::Tanh, 5).unwrap();
    assert_eq!(a, b);
    // Every value lies within ±1/sqrt(fan_in).
    let bound = 1.0 / 3f32.sqrt();
    for value in a.weights()[0]
        .weight
        .iter()
        .chain(a.weights()[0].bias.iter())
    {
        assert!(value.abs() <= bound, "{value} exceeds {bound}");
    }
    // The first draw is (2 u - 1) / sqrt(3) with u from Rng::new(5).
    let mut rng = Rng::new(5);
    let expected = ((2.0 * rng.next_f64() - 1.0) / 3f64.sqrt()) as f32;
    assert_eq!(a.weights()[0].weight[(0, 0)].to_bits(), expected.to_bits());
}
