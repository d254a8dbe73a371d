//! Checks the batch order, the step count and the per-step hyperparameters
//! of `fit` against a by-hand replay of the rules that the TypeScript engine
//! shares.

use std::sync::atomic::AtomicBool;

use ndarray::{s, Array2, ShapeBuilder};
use onecycle_core::{
    fit, Activation, FitOptions, History, Loss, Mlp, OneCycleLR, OneCycleOptions, Rng, Sgd,
    SgdOptions, Targets,
};

const SIZES: [usize; 3] = [3, 8, 2];
const ROWS: usize = 23;

fn data() -> (Array2<f32>, Array2<f32>) {
    let mut rng = Rng::new(4);
    let x = (0..ROWS * SIZES[0])
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect();
    let y = (0..ROWS * SIZES[2])
        .map(|_| rng.next_f64() as f32)
        .collect();
    (
        Array2::from_shape_vec((ROWS, SIZES[0]), x).unwrap(),
        Array2::from_shape_vec((ROWS, SIZES[2]), y).unwrap(),
    )
}

fn train(options: &FitOptions) -> (Mlp, History) {
    let (x, y) = data();
    let mut model = Mlp::new(&SIZES, Activation::Tanh, 9).unwrap();
    let cancel = AtomicBool::new(false);
    let history = fit(
        &mut model,
        x.view(),
        Targets::Values(y.view()),
        None,
        options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    (model, history)
}

/// Trains as `fit` should: Fisher-Yates from the top at each epoch with a
/// generator seeded with `options.seed`, batches of consecutive entries of
/// the order, and one SGD step per batch with the given hyperparameters.
fn replay(options: &FitOptions, hyperparameters: impl Fn(usize) -> (f64, f64)) -> Mlp {
    let (x, y) = data();
    let mut model = Mlp::new(&SIZES, Activation::Tanh, 9).unwrap();
    let sizes: Vec<usize> = model
        .weights()
        .iter()
        .flat_map(|l| [l.weight.len(), l.bias.len()])
        .collect();
    let mut sgd = Sgd::new(options.sgd, &sizes).unwrap();
    let mut workspace = model.workspace(options.batch_size);
    let mut rng = Rng::new(options.seed);
    let mut order: Vec<usize> = (0..ROWS).collect();
    let batches = if options.drop_last {
        ROWS / options.batch_size
    } else {
        ROWS.div_ceil(options.batch_size)
    };
    let mut step = 0;
    for _ in 0..options.epochs {
        if options.shuffle {
            rng.shuffle(&mut order);
        }
        for batch in 0..batches {
            let rows =
                &order[batch * options.batch_size..((batch + 1) * options.batch_size).min(ROWS)];
            let bx = Array2::from_shape_fn((rows.len(), SIZES[0]), |(i, j)| x[(rows[i], j)]);
            let by = Array2::from_shape_fn((rows.len(), SIZES[2]), |(i, j)| y[(rows[i], j)]);
            model
                .compute_gradients(
                    &mut workspace,
                    bx.view(),
                    Targets::Values(by.view()),
                    Loss::Mse,
                )
                .unwrap();
            let (lr, momentum) = hyperparameters(step);
            let mut layers = model.weights().to_vec();
            for (index, (layer, gradient)) in
                layers.iter_mut().zip(workspace.gradients()).enumerate()
            {
                let weight = layer.weight.as_slice_mut().unwrap();
                let bias = layer.bias.as_slice_mut().unwrap();
                let weight_gradient = gradient.weight.as_slice().unwrap();
                let bias_gradient = gradient.bias.as_slice().unwrap();
                sgd.step(2 * index, weight, weight_gradient, lr, momentum);
                sgd.step(2 * index + 1, bias, bias_gradient, lr, momentum);
            }
            model.set_weights(&layers).unwrap();
            step += 1;
        }
    }
    model
}

fn assert_same_weights(a: &Mlp, b: &Mlp) {
    for (l, (x, y)) in a.weights().iter().zip(b.weights()).enumerate() {
        assert_eq!(x.weight, y.weight, "layer {l} weight");
        assert_eq!(x.bias, y.bias, "layer {l} bias");
    }
}

fn base_options() -> FitOptions {
    FitOptions {
        epochs: 3,
        batch_size: 5,
        loss: Loss::Mse,
        sgd: SgdOptions {
            lr: 0.05,
            momentum: 0.9,
            ..SgdOptions::default()
        },
        seed: 17,
        record_steps: true,
        ..FitOptions::default()
    }
}

#[test]
fn shuffled_batches_follow_fisher_yates_order() {
    let options = base_options();
    let (model, history) = train(&options);
    let replayed = replay(&options, |_| (0.05, 0.9));
    assert_same_weights(&model, &replayed);
    assert_eq!(history.total_steps, 3 * 5);
}

#[test]
fn drop_last_skips_short_batch() {
    let options = FitOptions {
        drop_last: true,
        ..base_options()
    };
    let (model, history) = train(&options);
    assert_eq!(history.total_steps, 3 * 4);
    assert_same_weights(&model, &replay(&options, |_| (0.05, 0.9)));
}

#[test]
fn oversized_batch_takes_all_rows() {
    let options = FitOptions {
        batch_size: 100,
        shuffle: false,
        ..base_options()
    };
    let (model, history) = train(&options);
    assert_eq!(history.total_steps, 3);
    assert_same_weights(&model, &replay(&options, |_| (0.05, 0.9)));
}

#[test]
fn schedule_index_counts_steps_across_epochs() {
    let schedule = OneCycleOptions {
        max_lr: vec![0.2],
        ..OneCycleOptions::default()
    };
    let options = FitOptions {
        schedule: Some(schedule.clone()),
        ..base_options()
    };
    let (model, history) = train(&options);
    let reference = OneCycleLR::new(&OneCycleOptions {
        total_steps: Some(15),
        ..schedule
    })
    .unwrap();
    let steps = history.steps.unwrap();
    for t in 0..15 {
        assert_eq!(steps.lr[t], reference.lr_at(t, 0), "lr at step {t}");
        assert_eq!(
            Some(steps.momentum[t]),
            reference.momentum_at(t, 0),
            "momentum at step {t}"
        );
    }
    let replayed = replay(&options, |t| {
        (reference.lr_at(t, 0), reference.momentum_at(t, 0).unwrap())
    });
    assert_same_weights(&model, &replayed);
}

#[test]
fn resumed_schedule_starts_after_last_epoch() {
    let schedule = OneCycleOptions {
        max_lr: vec![0.2],
        total_steps: Some(40),
        last_epoch: 9,
        ..OneCycleOptions::default()
    };
    let options = FitOptions {
        schedule: Some(schedule.clone()),
        ..base_options()
    };
    let (_, history) = train(&options);
    let reference = OneCycleLR::new(&OneCycleOptions {
        last_epoch: -1,
        ..schedule
    })
    .unwrap();
    let steps = history.steps.unwrap();
    for t in 0..15 {
        assert_eq!(steps.lr[t], reference.lr_at(10 + t, 0), "lr at step {t}");
    }
}

#[test]
fn fixed_momentum_and_constant_lr() {
    // Without cycle_momentum the optimizer's momentum applies at every step.
    let schedule = OneCycleOptions {
        max_lr: vec![0.2],
        cycle_momentum: false,
        ..OneCycleOptions::default()
    };
    let (_, history) = train(&FitOptions {
        schedule: Some(schedule),
        ..base_options()
    });
    let steps = history.steps.unwrap();
    assert!(
        steps.momentum.iter().all(|&m| m == 0.9),
        "{:?}",
        steps.momentum
    );

    // Without a schedule the learning rate is the optimizer's.
    let (_, history) = train(&base_options());
    let steps = history.steps.unwrap();
    assert!(steps.lr.iter().all(|&lr| lr == 0.05), "{:?}", steps.lr);
    let epoch_loss = history.epochs[0].loss;
    // Batches of 5, 5, 5, 5 and 3 rows weight the epoch mean.
    let weighted = (0..5)
        .map(|k| steps.loss[k] * if k < 4 { 5.0 } else { 3.0 })
        .sum::<f64>()
        / 23.0;
    assert!(
        (epoch_loss - weighted).abs() < 1e-12,
        "{epoch_loss} vs {weighted}"
    );
}

#[test]
fn any_data_layout_gives_same_weights() {
    let (x, y) = data();
    let (standard, _) = train(&base_options());
    let options = FitOptions {
        threads: Some(1),
        ..base_options()
    };
    let cancel = AtomicBool::new(false);

    // Column-major copies of the same matrices.
    let mut x_columns = Array2::zeros((ROWS, SIZES[0]).f());
    x_columns.assign(&x);
    let mut y_columns = Array2::zeros((ROWS, SIZES[2]).f());
    y_columns.assign(&y);
    assert!(!x_columns.is_standard_layout());
    let mut model = Mlp::new(&SIZES, Activation::Tanh, 9).unwrap();
    let targets = Targets::Values(y_columns.view());
    fit(
        &mut model,
        x_columns.view(),
        targets,
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    assert_same_weights(&standard, &model);

    // Every other column of a matrix twice as wide, so no row is
    // contiguous.
    let mut wide = Array2::zeros((ROWS, 2 * SIZES[0]));
    wide.slice_mut(s![.., ..;2]).assign(&x);
    let x_strided = wide.slice(s![.., ..;2]);
    assert!(x_strided.row(0).as_slice().is_none());
    let mut model = Mlp::new(&SIZES, Activation::Tanh, 9).unwrap();
    let targets = Targets::Values(y.view());
    fit(
        &mut model,
        x_strided,
        targets,
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    assert_same_weights(&standard, &model);
}
