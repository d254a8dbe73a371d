//! Checks that small networks learn simple synthetic problems, and that
//! the history reports what happened.

use std::sync::atomic::AtomicBool;

use ndarray::{s, Array1, Array2, ArrayView1, ShapeBuilder};
use onecycle_core::{
    fit, Activation, FitOptions, Loss, Mlp, OneCycleOptions, Rng, SgdOptions, Targets,
};

/// Returns a `[rows, cols]` matrix of values uniform in `[-1, 1)`.
fn uniform(rng: &mut Rng, rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || (rng.next_f64() * 2.0 - 1.0) as f32)
}

#[test]
fn regression_loss_falls() {
    // y = sin(2 x0) + x1^2 on [-1, 1]^2.
    let mut rng = Rng::new(1);
    let rows = 512;
    let x = uniform(&mut rng, rows, 2);
    let y = Array2::from_shape_fn((rows, 1), |(r, _)| {
        (2.0 * x[(r, 0)]).sin() + x[(r, 1)] * x[(r, 1)]
    });
    let mut model = Mlp::new(&[2, 32, 32, 1], Activation::Tanh, 1).unwrap();
    let options = FitOptions {
        epochs: 30,
        batch_size: 32,
        loss: Loss::Mse,
        sgd: SgdOptions {
            momentum: 0.9,
            ..SgdOptions::default()
        },
        schedule: Some(OneCycleOptions {
            max_lr: vec![0.1],
            ..OneCycleOptions::default()
        }),
        record_steps: true,
        ..FitOptions::default()
    };
    let (initial, _) = model
        .evaluate(x.view(), Targets::Values(y.view()), Loss::Mse)
        .unwrap();
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let history = fit(
        &mut model,
        x.view(),
        Targets::Values(y.view()),
        None,
        &options,
        &mut |record| seen.push(record.epoch),
        &cancel,
    )
    .unwrap();
    let (last, _) = model
        .evaluate(x.view(), Targets::Values(y.view()), Loss::Mse)
        .unwrap();
    assert!(
        last < initial * 0.05,
        "loss fell only from {initial} to {last}"
    );

    assert_eq!(seen, (1..=30).collect::<Vec<_>>());
    assert_eq!(history.total_steps, 30 * 16);
    let steps = history.steps.unwrap();
    assert_eq!(steps.lr.len(), 30 * 16);
    let epoch_losses: Vec<f64> = history.epochs.iter().map(|record| record.loss).collect();
    assert!(epoch_losses[29] < epoch_losses[0], "{epoch_losses:?}");
    // The last epoch's learning rate and momentum are those of its last step.
    assert_eq!(history.epochs[29].lr, steps.lr[30 * 16 - 1]);
    assert_eq!(history.epochs[29].momentum, steps.momentum[30 * 16 - 1]);
    assert!(history.samples_per_second > 0.0);
}

#[test]
fn classifier_reaches_high_validation_accuracy() {
    // Three clusters in 4 dimensions, each point within ±0.7 of its center
    // in every coordinate.
    let mut rng = Rng::new(2);
    let centers = [
        [2.0, 0.0, 0.0, 1.0],
        [-2.0, 1.0, 0.0, 0.0],
        [0.0, -2.0, 2.0, 0.0],
    ];
    let make = |rng: &mut Rng, rows: usize| {
        let mut x = Vec::with_capacity(rows * 4);
        let mut y = Vec::with_capacity(rows);
        for _ in 0..rows {
            let class = rng.below(3) as usize;
            x.extend(
                centers[class]
                    .iter()
                    .map(|c| c + 0.7 * (rng.next_f64() * 2.0 - 1.0) as f32),
            );
            y.push(class as i32);
        }
        (
            Array2::from_shape_vec((rows, 4), x).unwrap(),
            Array1::from_vec(y),
        )
    };

    let (x, y) = make(&mut rng, 300);
    let (val_x, val_y) = make(&mut rng, 100);
    let mut model = Mlp::new(&[4, 16, 3], Activation::Gelu, 2).unwrap();
    let options = FitOptions {
        epochs: 10,
        batch_size: 16,
        loss: Loss::CrossEntropy,
        sgd: SgdOptions {
            momentum: 0.9,
            ..SgdOptions::default()
        },
        schedule: Some(OneCycleOptions {
            max_lr: vec![0.2],
            ..OneCycleOptions::default()
        }),
        ..FitOptions::default()
    };

    let cancel = AtomicBool::new(false);
    let validation = Some((val_x.view(), Targets::Classes(val_y.view())));
    let history = fit(
        &mut model,
        x.view(),
        Targets::Classes(y.view()),
        validation,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();

    let last = history.epochs.last().unwrap();
    let accuracy = last.val_accuracy.unwrap();
    assert!(accuracy > 0.95, "validation accuracy {accuracy}");
    assert!(last.val_loss.unwrap() < history.epochs[0].val_loss.unwrap());
    assert!(history.steps.is_none());
}

#[test]
fn predict_matches_training_forward() {
    let mut rng = Rng::new(3);
    let rows = 1100; // spans three inference chunks
    let x = uniform(&mut rng, rows, 3);
    let model = Mlp::new(&[3, 7, 2], Activation::Sigmoid, 3).unwrap();
    let out = model.predict(x.view()).unwrap();
    assert_eq!(out.dim(), (rows, 2));
    // Row by row, the first output equals a by-hand forward pass.
    let layers = model.weights();
    let dot = |w: ArrayView1<'_, f32>, input: &[f64]| -> f64 {
        w.iter().zip(input).map(|(&w, &x)| f64::from(w) * x).sum()
    };
    for row in [0, 511, 512, 1099] {
        let input: Vec<f64> = x.row(row).iter().map(|&v| f64::from(v)).collect();
        let hidden: Vec<f64> = (0..7)
            .map(|o| {
                let z = f64::from(layers[0].bias[o]) + dot(layers[0].weight.row(o), &input);
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        let z = f64::from(layers[1].bias[0]) + dot(layers[1].weight.row(0), &hidden);
        assert!(
            (f64::from(out[(row, 0)]) - z).abs() < 1e-5,
            "row {row}: {} vs {z}",
            out[(row, 0)]
        );
    }
}

#[test]
fn predict_reads_any_layout() {
    let mut rng = Rng::new(5);
    let rows = 40;
    let x = uniform(&mut rng, rows, 6);
    let model = Mlp::new(&[6, 24, 3], Activation::Tanh, 5).unwrap();
    let expected = model.predict(x.view()).unwrap();

    let mut columns = Array2::zeros((rows, 6).f());
    columns.assign(&x);
    assert!(!columns.is_standard_layout());
    assert_eq!(model.predict(columns.view()).unwrap(), expected);

    // Every other row of a matrix twice as tall.
    let mut tall = Array2::zeros((2 * rows, 6));
    tall.slice_mut(s![..;2, ..]).assign(&x);
    assert_eq!(model.predict(tall.slice(s![..;2, ..])).unwrap(), expected);

    let empty = model.predict(Array2::zeros((0, 6)).view()).unwrap();
    assert_eq!(empty.dim(), (0, 3));
}

#[test]
fn evaluate_matches_predict() {
    let mut rng = Rng::new(6);
    let rows = 600; // one full inference chunk and a partial one
    let x = uniform(&mut rng, rows, 5);
    let y = uniform(&mut rng, rows, 2);
    let model = Mlp::new(&[5, 9, 2], Activation::Relu, 6).unwrap();
    let output = model.predict(x.view()).unwrap();
    let sum: f64 = output
        .iter()
        .zip(&y)
        .map(|(&z, &y)| (f64::from(z) - f64::from(y)).powi(2))
        .sum();
    let (loss, accuracy) = model
        .evaluate(x.view(), Targets::Values(y.view()), Loss::Mse)
        .unwrap();
    assert!((loss - sum / (rows * 2) as f64).abs() < 1e-12, "{loss}");
    assert_eq!(accuracy, None);

    let mut y_columns = Array2::zeros((rows, 2).f());
    y_columns.assign(&y);
    let (columns_loss, _) = model
        .evaluate(x.view(), Targets::Values(y_columns.view()), Loss::Mse)
        .unwrap();
    assert_eq!(columns_loss.to_bits(), loss.to_bits());
}
