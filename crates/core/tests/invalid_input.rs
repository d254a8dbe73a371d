//! Checks that bad options and bad data are rejected before training, with
//! messages that name the value.

use std::sync::atomic::{AtomicBool, Ordering};

use onecycle_core::{
    fit, Activation, Dense, Error, FitOptions, History, Loss, Mlp, OneCycleOptions, Result,
    SgdOptions, Targets, Validation,
};

const ROWS: usize = 10;

fn model() -> Mlp {
    Mlp::new(&[2, 4, 3], Activation::Relu, 0).unwrap()
}

fn x() -> Vec<f32> {
    (0..ROWS * 2).map(|i| i as f32 * 0.1).collect()
}

fn classes() -> Vec<i32> {
    (0..ROWS).map(|i| (i % 3) as i32).collect()
}

fn cross_entropy() -> FitOptions {
    FitOptions {
        loss: Loss::CrossEntropy,
        batch_size: 4,
        ..FitOptions::default()
    }
}

fn run(
    x: &[f32],
    rows: usize,
    targets: Targets<'_>,
    validation: Option<Validation<'_>>,
    options: &FitOptions,
) -> Result<History> {
    let cancel = AtomicBool::new(false);
    fit(
        &mut model(),
        x,
        rows,
        targets,
        validation,
        options,
        &mut |_| {},
        &cancel,
    )
}

fn message_of(result: Result<History>) -> String {
    result
        .expect_err("the run was expected to fail")
        .to_string()
}

fn assert_contains(message: &str, expected: &str) {
    assert!(
        message.contains(expected),
        "{message:?} does not contain {expected:?}"
    );
}

#[test]
fn bad_fit_options_name_the_value() {
    let (x, y) = (x(), classes());
    let cases = [
        (
            FitOptions {
                epochs: 0,
                ..cross_entropy()
            },
            "epochs must be at least 1, got 0",
        ),
        (
            FitOptions {
                batch_size: 0,
                ..cross_entropy()
            },
            "batch_size must be at least 1, got 0",
        ),
        (
            FitOptions {
                threads: Some(0),
                ..cross_entropy()
            },
            "threads must be at least 1, got 0",
        ),
        (
            FitOptions {
                sgd: SgdOptions {
                    lr: -1.0,
                    ..SgdOptions::default()
                },
                ..cross_entropy()
            },
            "Invalid learning rate: -1",
        ),
        (
            FitOptions {
                batch_size: 11,
                drop_last: true,
                ..cross_entropy()
            },
            "drop_last with batch_size 11 and 10 rows leaves no full batch",
        ),
        (
            FitOptions {
                schedule: Some(OneCycleOptions::new(0.1, 2)),
                ..cross_entropy()
            },
            "the schedule has total_steps = 2 but this run takes 3 steps",
        ),
    ];
    for (options, expected) in cases {
        let message = message_of(run(&x, ROWS, Targets::Classes(&y), None, &options));
        assert_contains(&message, expected);
    }
}

#[test]
fn bad_schedule_options_pass_through() {
    let (x, y) = (x(), classes());
    let schedule = OneCycleOptions {
        pct_start: 1.5,
        ..OneCycleOptions::new(0.1, 3)
    };
    let options = FitOptions {
        schedule: Some(schedule),
        ..cross_entropy()
    };
    let message = message_of(run(&x, ROWS, Targets::Classes(&y), None, &options));
    assert_contains(&message, "pct_start");
    assert_contains(&message, "1.5");
}

#[test]
fn bad_data_names_the_value() {
    let (x, y) = (x(), classes());
    let options = cross_entropy();

    let message = message_of(run(&x[..19], ROWS, Targets::Classes(&y), None, &options));
    assert_contains(&message, "x has 19 values but 10 rows × 2 inputs need 20");

    let mut with_nan = x.clone();
    with_nan[7] = f32::NAN;
    let message = message_of(run(&with_nan, ROWS, Targets::Classes(&y), None, &options));
    assert_contains(&message, "x[3][1] is NaN");

    let mut with_inf = x.clone();
    with_inf[0] = f32::INFINITY;
    let message = message_of(run(&with_inf, ROWS, Targets::Classes(&y), None, &options));
    assert_contains(&message, "x[0][0] is inf");

    let mut bad_label = y.clone();
    bad_label[4] = 3;
    let message = message_of(run(&x, ROWS, Targets::Classes(&bad_label), None, &options));
    assert_contains(&message, "y[4] = 3 is not a class index in [0, 3)");

    bad_label[4] = -1;
    let message = message_of(run(&x, ROWS, Targets::Classes(&bad_label), None, &options));
    assert_contains(&message, "y[4] = -1");

    let message = message_of(run(&x, ROWS, Targets::Classes(&y[..9]), None, &options));
    assert_contains(&message, "y has 9 class indices but x has 10 rows");

    let message = message_of(run(&[], 0, Targets::Classes(&[]), None, &options));
    assert_contains(&message, "x has 0 rows");

    let values = vec![0.5; ROWS * 3];
    let message = message_of(run(&x, ROWS, Targets::Values(&values), None, &options));
    assert_contains(&message, "cross_entropy takes class indices");
}

#[test]
fn bad_validation_data_names_the_value() {
    let (x, y) = (x(), classes());
    let options = cross_entropy();
    let validation = (&x[..4], 2, Targets::Classes(&[0, 5]));
    let message = message_of(run(
        &x,
        ROWS,
        Targets::Classes(&y),
        Some(validation),
        &options,
    ));
    assert_contains(&message, "validation y[1] = 5");

    let validation = (&x[..3], 2, Targets::Classes(&[0, 1]));
    let message = message_of(run(
        &x,
        ROWS,
        Targets::Classes(&y),
        Some(validation),
        &options,
    ));
    assert_contains(
        &message,
        "validation x has 3 values but 2 rows × 2 inputs need 4",
    );
}

#[test]
fn regression_targets_are_checked() {
    let x = x();
    let options = FitOptions {
        loss: Loss::BceWithLogits,
        ..FitOptions::default()
    };
    let mut y = vec![0.0; ROWS * 3];
    y[5] = 2.0;
    let message = message_of(run(&x, ROWS, Targets::Values(&y), None, &options));
    assert_contains(&message, "y[1][2] = 2 is outside [0, 1]");

    let options = FitOptions {
        loss: Loss::Mse,
        ..FitOptions::default()
    };
    let message = message_of(run(&x, ROWS, Targets::Values(&y[..29]), None, &options));
    assert_contains(&message, "y has 29 values but 10 rows × 3 outputs need 30");
    let message = message_of(run(&x, ROWS, Targets::Classes(&classes()), None, &options));
    assert_contains(&message, "mse takes a [rows][3] matrix of float targets");
}

#[test]
fn cancel_flag_aborts() {
    let (x, y) = (x(), classes());
    let cancel = AtomicBool::new(true);
    let result = fit(
        &mut model(),
        &x,
        ROWS,
        Targets::Classes(&y),
        None,
        &cross_entropy(),
        &mut |_| {},
        &cancel,
    );
    assert_eq!(result.unwrap_err(), Error::Aborted);

    // A flag set from the epoch callback stops the run before the next
    // epoch's first batch.
    let cancel = AtomicBool::new(false);
    let mut epochs_seen = 0;
    let options = FitOptions {
        epochs: 5,
        ..cross_entropy()
    };
    let mut on_epoch = |_: &_| {
        epochs_seen += 1;
        cancel.store(true, Ordering::Relaxed);
    };
    let result = fit(
        &mut model(),
        &x,
        ROWS,
        Targets::Classes(&y),
        None,
        &options,
        &mut on_epoch,
        &cancel,
    );
    assert_eq!(result.unwrap_err(), Error::Aborted);
    assert_eq!(epochs_seen, 1);
}

#[test]
fn diverging_run_names_epoch_step_and_lr() {
    let x: Vec<f32> = (0..ROWS * 2).map(|i| i as f32 * 100.0).collect();
    let y: Vec<f32> = (0..ROWS * 3).map(|i| i as f32 * 100.0).collect();
    let options = FitOptions {
        epochs: 50,
        batch_size: 5,
        shuffle: false,
        sgd: SgdOptions {
            lr: 10.0,
            ..SgdOptions::default()
        },
        ..FitOptions::default()
    };
    let error = run(&x, ROWS, Targets::Values(&y), None, &options).unwrap_err();
    assert!(matches!(error, Error::NonFinite(_)), "{error:?}");
    let message = error.to_string();
    assert_contains(
        &message,
        "the loss became NaN in epoch 2 at step 4 (batch 2 of the epoch)",
    );
    assert_contains(&message, "with learning rate 10: lower lr");
}

#[test]
fn bad_model_arguments_name_the_value() {
    let message = Mlp::new(&[3], Activation::Relu, 0).unwrap_err().to_string();
    assert_contains(
        &message,
        "sizes [3] must list at least an input size and an output size",
    );
    let message = Mlp::new(&[3, 0, 1], Activation::Relu, 0)
        .unwrap_err()
        .to_string();
    assert_contains(&message, "sizes[1] is 0 in [3, 0, 1]");
    let message = "softplus".parse::<Activation>().unwrap_err().to_string();
    assert_contains(
        &message,
        "unknown activation \"softplus\": expected one of relu, leaky_relu",
    );
    let message = "nll".parse::<Loss>().unwrap_err().to_string();
    assert_contains(&message, "unknown loss \"nll\"");

    let message = model().predict(&[0.0; 5], 3).unwrap_err().to_string();
    assert_contains(&message, "x has 5 values but 3 rows × 2 inputs need 6");
}

#[test]
fn bad_weights_name_layer_and_shape() {
    let mut model = model();
    let before = model.clone();
    let mut layers = model.weights().to_vec();
    layers[1].weight.pop();
    let message = model.set_weights(&layers).unwrap_err().to_string();
    assert_contains(
        &message,
        "layer 1 weight has 11 values but its shape [3][4] (outputs × inputs) needs 12",
    );

    let mut layers = before.weights().to_vec();
    layers[0].bias.push(0.0);
    let message = model.set_weights(&layers).unwrap_err().to_string();
    assert_contains(
        &message,
        "layer 0 bias has 5 values but its shape [4] needs 4",
    );

    let mut layers = before.weights().to_vec();
    layers[1].weight[6] = f32::NAN;
    let message = model.set_weights(&layers).unwrap_err().to_string();
    assert_contains(&message, "layer 1 weight[1][2] is NaN");

    let message = model.set_weights(&layers[..1]).unwrap_err().to_string();
    assert_contains(
        &message,
        "expected weights for 2 layers (sizes [2, 4, 3]) but got 1",
    );
    assert_eq!(model, before, "a rejected set_weights changed the model");

    let good: Vec<Dense> = before.weights().to_vec();
    model.set_weights(&good).unwrap();
}
