//! Checks that bad options and bad data are rejected before training, with
//! messages that name the value.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{arr1, s, Array1, Array2, ArrayView2};
use onecycle_core::{
    fit, Activation, Dense, Error, FitOptions, History, Loss, Mlp, OneCycleOptions, Result,
    SgdOptions, Targets, Validation, MAX_LAYER_PARAMETERS, MAX_THREADS,
};

const ROWS: usize = 10;

fn model() -> Mlp {
    Mlp::new(&[2, 4, 3], Activation::Relu, 0).unwrap()
}

fn x() -> Array2<f32> {
    Array2::from_shape_fn((ROWS, 2), |(r, c)| (r * 2 + c) as f32 * 0.1)
}

fn classes() -> Array1<i32> {
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
    x: ArrayView2<'_, f32>,
    targets: Targets<'_>,
    validation: Option<Validation<'_>>,
    options: &FitOptions,
) -> Result<History> {
    let cancel = AtomicBool::new(false);
    fit(
        &mut model(),
        x,
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
            "threads must be in 1..=256, got 0",
        ),
        (
            FitOptions {
                threads: Some(MAX_THREADS + 1),
                ..cross_entropy()
            },
            "threads must be in 1..=256, got 257",
        ),
        (
            FitOptions {
                threads: Some(100_000),
                ..cross_entropy()
            },
            "threads must be in 1..=256, got 100000",
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
        let message = message_of(run(x.view(), Targets::Classes(y.view()), None, &options));
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
    let message = message_of(run(x.view(), Targets::Classes(y.view()), None, &options));
    assert_contains(&message, "pct_start");
    assert_contains(&message, "1.5");
}

#[test]
fn bad_data_names_the_value() {
    let (x, y) = (x(), classes());
    let options = cross_entropy();

    let wide = Array2::zeros((ROWS, 3));
    let message = message_of(run(wide.view(), Targets::Classes(y.view()), None, &options));
    assert_contains(
        &message,
        "x has shape [10, 3] but the model has 2 inputs, so it needs shape [10, 2]",
    );

    let mut with_nan = x.clone();
    with_nan[(3, 1)] = f32::NAN;
    let message = message_of(run(
        with_nan.view(),
        Targets::Classes(y.view()),
        None,
        &options,
    ));
    assert_contains(&message, "x[3][1] is NaN");

    // The position is the logical one, whatever the layout.
    let with_nan_columns = with_nan
        .t()
        .as_standard_layout()
        .into_owned()
        .reversed_axes();
    assert!(!with_nan_columns.is_standard_layout());
    let targets = Targets::Classes(y.view());
    let message = message_of(run(with_nan_columns.view(), targets, None, &options));
    assert_contains(&message, "x[3][1] is NaN");

    let mut with_inf = x.clone();
    with_inf[(0, 0)] = f32::INFINITY;
    let message = message_of(run(
        with_inf.view(),
        Targets::Classes(y.view()),
        None,
        &options,
    ));
    assert_contains(&message, "x[0][0] is inf");

    let mut bad_label = y.clone();
    bad_label[4] = 3;
    let targets = Targets::Classes(bad_label.view());
    let message = message_of(run(x.view(), targets, None, &options));
    assert_contains(&message, "y[4] = 3 is not a class index in [0, 3)");

    bad_label[4] = -1;
    let targets = Targets::Classes(bad_label.view());
    let message = message_of(run(x.view(), targets, None, &options));
    assert_contains(&message, "y[4] = -1");

    let targets = Targets::Classes(y.slice(s![..9]));
    let message = message_of(run(x.view(), targets, None, &options));
    assert_contains(
        &message,
        "y has shape [9] but x has 10 rows, so it needs shape [10]",
    );

    let empty = Array2::zeros((0, 2));
    let no_classes = Array1::zeros(0);
    let targets = Targets::Classes(no_classes.view());
    let message = message_of(run(empty.view(), targets, None, &options));
    assert_contains(&message, "x has 0 rows");

    let values = Array2::from_elem((ROWS, 3), 0.5);
    let message = message_of(run(
        x.view(),
        Targets::Values(values.view()),
        None,
        &options,
    ));
    assert_contains(&message, "cross_entropy takes class indices");
}

#[test]
fn bad_validation_data_names_the_value() {
    let (x, y) = (x(), classes());
    let options = cross_entropy();
    let val_y = arr1(&[0, 5]);
    let validation = (x.slice(s![..2, ..]), Targets::Classes(val_y.view()));
    let message = message_of(run(
        x.view(),
        Targets::Classes(y.view()),
        Some(validation),
        &options,
    ));
    assert_contains(&message, "validation y[1] = 5");

    let val_y = arr1(&[0, 1]);
    let validation = (x.slice(s![..2, ..1]), Targets::Classes(val_y.view()));
    let message = message_of(run(
        x.view(),
        Targets::Classes(y.view()),
        Some(validation),
        &options,
    ));
    assert_contains(
        &message,
        "validation x has shape [2, 1] but the model has 2 inputs, so it needs shape [2, 2]",
    );
}

#[test]
fn regression_targets_are_checked() {
    let x = x();
    let options = FitOptions {
        loss: Loss::BceWithLogits,
        ..FitOptions::default()
    };
    let mut y = Array2::zeros((ROWS, 3));
    y[(1, 2)] = 2.0;
    let message = message_of(run(x.view(), Targets::Values(y.view()), None, &options));
    assert_contains(&message, "y[1][2] = 2 is outside [0, 1]");

    let options = FitOptions {
        loss: Loss::Mse,
        ..FitOptions::default()
    };
    let targets = Targets::Values(y.slice(s![..9, ..]));
    let message = message_of(run(x.view(), targets, None, &options));
    assert_contains(
        &message,
        "y has shape [9, 3] but x has 10 rows and the model has 3 outputs, \
         so it needs shape [10, 3]",
    );
    let classes = classes();
    let targets = Targets::Classes(classes.view());
    let message = message_of(run(x.view(), targets, None, &options));
    assert_contains(&message, "mse takes a [rows, 3] matrix of float targets");
}

#[test]
fn cancel_flag_aborts() {
    let (x, y) = (x(), classes());
    let cancel = AtomicBool::new(true);
    let result = fit(
        &mut model(),
        x.view(),
        Targets::Classes(y.view()),
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
        x.view(),
        Targets::Classes(y.view()),
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
    let x = Array2::from_shape_fn((ROWS, 2), |(r, c)| (r * 2 + c) as f32 * 100.0);
    let y = Array2::from_shape_fn((ROWS, 3), |(r, c)| (r * 3 + c) as f32 * 100.0);
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
    let error = run(x.view(), Targets::Values(y.view()), None, &options).unwrap_err();
    assert!(matches!(error, Error::NonFinite(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Training diverged: the loss is NaN at epoch 2, step 2 of 2, with learning rate 10. \
         Lower optimizer.lr and train again; the model keeps its weights from before fit."
    );
}

#[test]
fn diverging_scheduled_run_names_max_lr() {
    let x = Array2::from_shape_fn((ROWS, 2), |(r, c)| (r * 2 + c) as f32 * 100.0);
    let y = Array2::from_shape_fn((ROWS, 3), |(r, c)| (r * 3 + c) as f32 * 100.0);
    let schedule = OneCycleOptions {
        max_lr: vec![1000.0],
        cycle_momentum: false,
        div_factor: 1.0,
        pct_start: 0.5,
        ..OneCycleOptions::default()
    };
    let options = FitOptions {
        epochs: 50,
        batch_size: 4,
        shuffle: false,
        schedule: Some(schedule),
        ..FitOptions::default()
    };
    let error = run(x.view(), Targets::Values(y.view()), None, &options).unwrap_err();
    assert!(matches!(error, Error::NonFinite(_)), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("Training diverged: the loss is "),
        "{message:?}"
    );
    assert_contains(&message, " of 3, with learning rate ");
    assert_contains(
        &message,
        ". Lower schedule.maxLr and train again; the model keeps its weights from before fit.",
    );
    assert!(!message.contains("inf"), "{message:?}");
}

#[test]
fn nesterov_takes_cycling_momentum() {
    let (x, y) = (x(), classes());
    let nesterov = SgdOptions {
        nesterov: true,
        ..SgdOptions::default()
    };
    let scheduled = |schedule: OneCycleOptions, sgd: SgdOptions| FitOptions {
        sgd,
        schedule: Some(schedule),
        ..cross_entropy()
    };
    let cycling = OneCycleOptions::new(0.1, 3);
    let options = scheduled(cycling.clone(), nesterov);
    let result = run(x.view(), Targets::Classes(y.view()), None, &options);
    assert!(result.is_ok(), "{result:?}");

    let fixed = OneCycleOptions {
        cycle_momentum: false,
        ..cycling.clone()
    };
    let message = message_of(run(
        x.view(),
        Targets::Classes(y.view()),
        None,
        &scheduled(fixed.clone(), nesterov),
    ));
    assert_contains(
        &message,
        "Nesterov momentum requires a momentum and zero dampening, but got momentum = 0",
    );
    let with_momentum = SgdOptions {
        momentum: 0.9,
        ..nesterov
    };
    let result = run(
        x.view(),
        Targets::Classes(y.view()),
        None,
        &scheduled(fixed, with_momentum),
    );
    assert!(result.is_ok(), "{result:?}");

    let zero_base = OneCycleOptions {
        base_momentum: vec![0.0],
        ..cycling.clone()
    };
    let message = message_of(run(
        x.view(),
        Targets::Classes(y.view()),
        None,
        &scheduled(zero_base, nesterov),
    ));
    assert_contains(
        &message,
        "Nesterov momentum requires a momentum and zero dampening, but got the schedule's \
         momentum, which cycles between base_momentum = 0 and max_momentum = 0.95",
    );

    let dampened = SgdOptions {
        dampening: 0.1,
        ..nesterov
    };
    let message = message_of(run(
        x.view(),
        Targets::Classes(y.view()),
        None,
        &scheduled(cycling, dampened),
    ));
    assert_contains(&message, "and dampening = 0.1");
}

#[test]
fn oversized_layers_are_rejected() {
    let cases: [(&[usize], &str); 4] = [
        (
            &[100_000, 100_000],
            "layer 0 of sizes [100000, 100000] has shape [100000, 100000] (outputs × inputs), \
             which is 10000000000 weights, more than the cap of 268435456",
        ),
        (
            &[4, 16_384, 16_385],
            "layer 1 of sizes [4, 16384, 16385] has shape [16385, 16384]",
        ),
        (
            &[usize::MAX, 2],
            "layer 0 of sizes [18446744073709551615, 2] has shape [2, 18446744073709551615] \
             (outputs × inputs), which is more than usize::MAX weights",
        ),
        (
            &[MAX_LAYER_PARAMETERS + 1, 1],
            "layer 0 of sizes [268435457, 1]",
        ),
    ];
    for (sizes, expected) in cases {
        let error = Mlp::new(sizes, Activation::Relu, 0).unwrap_err();
        assert!(matches!(error, Error::InvalidOption(_)), "{error:?}");
        assert_contains(&error.to_string(), expected);
    }
}

#[test]
fn oversized_batch_buffers_are_rejected() {
    let rows = 1 << 12;
    let x = Array2::<f32>::zeros((rows, 2));
    let y = Array2::<f32>::zeros((rows, 1));
    let mut model = Mlp::new(&[2, 1 << 17, 1], Activation::Relu, 0).unwrap();
    let options = FitOptions {
        batch_size: 1 << 12,
        ..FitOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let error = fit(
        &mut model,
        x.view(),
        Targets::Values(y.view()),
        None,
        &options,
        &mut |_| {},
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(error, Error::InvalidOption(_)), "{error:?}");
    assert_contains(
        &error.to_string(),
        "batch_size 4096 with 4096 rows needs batch buffers of 4096 rows × 131072 units \
         (the widest layer) = 536870912 values, more than the cap of 268435456 \
         (MAX_LAYER_PARAMETERS): lower batch_size to at most 2048",
    );
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

    let x = Array2::zeros((3, 5));
    let message = model().predict(x.view()).unwrap_err().to_string();
    assert_contains(
        &message,
        "x has shape [3, 5] but the model has 2 inputs, so it needs shape [3, 2]",
    );
}

#[test]
fn bad_weights_name_layer_and_shape() {
    let mut model = model();
    let before = model.clone();
    let mut layers = model.weights().to_vec();
    layers[1].weight = Array2::zeros((4, 3));
    let message = model.set_weights(&layers).unwrap_err().to_string();
    assert_contains(
        &message,
        "layer 1 weight has shape [4, 3] but sizes [2, 4, 3] need [3, 4] (outputs × inputs)",
    );

    let mut layers = before.weights().to_vec();
    layers[0].bias = Array1::zeros(5);
    let message = model.set_weights(&layers).unwrap_err().to_string();
    assert_contains(
        &message,
        "layer 0 bias has shape [5] but sizes [2, 4, 3] need [4]",
    );

    let mut layers = before.weights().to_vec();
    layers[1].weight[(1, 2)] = f32::NAN;
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

#[test]
fn set_weights_stores_standard_layout() {
    let mut model = model();
    let mut layers = model.weights().to_vec();
    // The same weight values, stored column-major.
    let columns = layers[0]
        .weight
        .t()
        .as_standard_layout()
        .into_owned()
        .reversed_axes();
    assert!(!columns.is_standard_layout());
    layers[0].weight = columns;
    let expected = model.clone();
    model.set_weights(&layers).unwrap();
    assert_eq!(model, expected);
    assert!(model.weights()[0].weight.is_standard_layout());

    let x = x();
    assert_eq!(
        model.predict(x.view()).unwrap(),
        expected.predict(x.view()).unwrap()
    );
}
