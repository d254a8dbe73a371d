//! Checks that small networks learn simple synthetic problems, and that
//! the history reports what happened.

use std::sync::atomic::AtomicBool;

use onecycle_core::{
    fit, Activation, FitOptions, Loss, Mlp, OneCycleOptions, Rng, SgdOptions, Targets,
};

fn uniform(rng: &mut Rng, count: usize) -> Vec<f32> {
    (0..count)
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect()
}

#[test]
fn regression_loss_falls() {
    // y = sin(2 x0) + x1^2 on [-1, 1]^2.
    let mut rng = Rng::new(1);
    let rows = 512;
    let x = uniform(&mut rng, rows * 2);
    let y: Vec<f32> = x
        .chunks_exact(2)
        .map(|p| (2.0 * p[0]).sin() + p[1] * p[1])
        .collect();
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
        .evaluate(&x, rows, Targets::Values(&y), Loss::Mse)
        .unwrap();
    let cancel = AtomicBool::new(false);
    let mut seen = Vec::new();
    let history = fit(
        &mut model,
        &x,
        rows,
        Targets::Values(&y),
        None,
        &options,
        &mut |record| seen.push(record.epoch),
        &cancel,
    )
    .unwrap();
    let (last, _) = model
        .evaluate(&x, rows, Targets::Values(&y), Loss::Mse)
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
        (x, y)
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
    let validation = Some((val_x.as_slice(), 100, Targets::Classes(&val_y)));
    let history = fit(
        &mut model,
        &x,
        300,
        Targets::Classes(&y),
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
    let x = uniform(&mut rng, rows * 3);
    let model = Mlp::new(&[3, 7, 2], Activation::Sigmoid, 3).unwrap();
    let out = model.predict(&x, rows).unwrap();
    assert_eq!(out.len(), rows * 2);
    // Row by row, the first output equals a by-hand forward pass.
    let layers = model.weights();
    for row in [0, 511, 512, 1099] {
        let input = &x[row * 3..row * 3 + 3];
        let hidden: Vec<f64> = (0..7)
            .map(|o| {
                let w = &layers[0].weight[o * 3..o * 3 + 3];
                let z = f64::from(layers[0].bias[o])
                    + w.iter()
                        .zip(input)
                        .map(|(&w, &x)| f64::from(w) * f64::from(x))
                        .sum::<f64>();
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        let w = &layers[1].weight[..7];
        let z = f64::from(layers[1].bias[0])
            + w.iter()
                .zip(&hidden)
                .map(|(&w, h)| f64::from(w) * h)
                .sum::<f64>();
        assert!(
            (f64::from(out[row * 2]) - z).abs() < 1e-5,
            "row {row}: {} vs {z}",
            out[row * 2]
        );
    }
}
