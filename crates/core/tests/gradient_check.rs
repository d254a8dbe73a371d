//! Checks the backward pass against central finite differences for every
//! activation and every loss.
//!
//! The reference loss is computed in f64 by a separate textbook
//! implementation of the network in this file, from the model's f32
//! parameters. With a step of 1e-6 the central difference has a truncation
//! error near 1e-12 and a rounding error near 1e-10. The difference between
//! it and the analytic gradient is therefore the f32 rounding of the
//! backward pass.

use ndarray::{ArrayView1, ArrayView2};
use onecycle_core::{Activation, Loss, Mlp, Rng, Targets};

/// Finite-difference step, in parameter units.
const STEP: f64 = 1e-6;

/// Allowed `|analytic - numeric|` is `ABSOLUTE + RELATIVE * |numeric|`.
/// The largest differences seen with these seeds are 5e-8 absolute and
/// 8e-6 relative (x86-64, AVX-512 kernels), while a wrong derivative,
/// such as a missing factor of 2 or a sign flip, is off by 10% or more.
const ABSOLUTE: f64 = 1e-6;
const RELATIVE: f64 = 1e-4;

/// Layer sizes of the nets checked. The first has only narrow layers (at
/// most 16 outputs), which skip `sgemm`; the second has wide hidden layers,
/// whose products go through `sgemm`.
const NETS: [[usize; 4]; 2] = [[3, 5, 4, 3], [3, 20, 18, 3]];
const ROWS: usize = 6;

fn activate(activation: Activation, x: f64) -> f64 {
    match activation {
        Activation::Relu => x.max(0.0),
        Activation::LeakyRelu => {
            if x > 0.0 {
                x
            } else {
                0.01 * x
            }
        }
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Gelu => 0.5 * x * (1.0 + libm::erf(x / 2f64.sqrt())),
        Activation::Identity => x,
    }
}

/// Parameters in f64, one `(weight, bias)` pair per layer.
type Params = Vec<(Vec<f64>, Vec<f64>)>;

fn params_of(model: &Mlp) -> Params {
    let widen = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
    model
        .weights()
        .iter()
        .map(|layer| {
            let weight = layer.weight.as_slice().unwrap();
            let bias = layer.bias.as_slice().unwrap();
            (widen(weight), widen(bias))
        })
        .collect()
}

/// Computes the mean loss of the network in f64.
fn reference_loss(
    sizes: &[usize],
    params: &Params,
    activation: Activation,
    loss: Loss,
    x: &[f32],
    targets: &Target,
) -> f64 {
    let mut total = 0.0;
    for row in 0..ROWS {
        let mut values: Vec<f64> = x[row * sizes[0]..(row + 1) * sizes[0]]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        for (l, (weight, bias)) in params.iter().enumerate() {
            let (inputs, outputs) = (sizes[l], sizes[l + 1]);
            let mut next: Vec<f64> = (0..outputs)
                .map(|o| {
                    bias[o]
                        + (0..inputs)
                            .map(|i| weight[o * inputs + i] * values[i])
                            .sum::<f64>()
                })
                .collect();
            if l + 1 < params.len() {
                next.iter_mut().for_each(|v| *v = activate(activation, *v));
            }
            values = next;
        }
        total += row_loss(loss, &values, targets, row);
    }
    let outputs = sizes[sizes.len() - 1];
    match loss {
        Loss::CrossEntropy => total / ROWS as f64,
        Loss::Mse | Loss::BceWithLogits => total / (ROWS * outputs) as f64,
    }
}

fn row_loss(loss: Loss, z: &[f64], targets: &Target, row: usize) -> f64 {
    match (loss, targets) {
        (Loss::CrossEntropy, Target::Classes(classes)) => {
            let sum: f64 = z.iter().map(|v| v.exp()).sum();
            sum.ln() - z[classes[row] as usize]
        }
        (Loss::Mse, Target::Values(y)) => {
            let y = &y[row * z.len()..];
            z.iter()
                .zip(y)
                .map(|(&z, &y)| (z - f64::from(y)).powi(2))
                .sum()
        }
        (Loss::BceWithLogits, Target::Values(y)) => {
            let y = &y[row * z.len()..];
            let term = |z: f64, y: f64| {
                let p = 1.0 / (1.0 + (-z).exp());
                -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
            };
            z.iter().zip(y).map(|(&z, &y)| term(z, f64::from(y))).sum()
        }
        _ => unreachable!("targets built for the loss"),
    }
}

enum Target {
    Classes(Vec<i32>),
    Values(Vec<f32>),
}

impl Target {
    fn as_targets(&self) -> Targets<'_> {
        match self {
            Target::Classes(classes) => Targets::Classes(ArrayView1::from(classes)),
            Target::Values(values) => {
                let outputs = values.len() / ROWS;
                Targets::Values(ArrayView2::from_shape((ROWS, outputs), values).unwrap())
            }
        }
    }
}

fn make_targets(loss: Loss, outputs: usize, rng: &mut Rng) -> Target {
    match loss {
        Loss::CrossEntropy => Target::Classes(
            (0..ROWS)
                .map(|_| rng.below(outputs as u32) as i32)
                .collect(),
        ),
        Loss::Mse => {
            let values = (0..ROWS * outputs).map(|_| (rng.next_f64() * 2.0 - 1.0) as f32);
            Target::Values(values.collect())
        }
        Loss::BceWithLogits => {
            let choices = [0.0, 0.3, 1.0];
            let values = (0..ROWS * outputs).map(|_| choices[rng.below(3) as usize]);
            Target::Values(values.collect())
        }
    }
}

/// Returns one line per parameter whose analytic gradient misses the
/// finite difference.
fn check(sizes: &[usize], activation: Activation, loss: Loss, seed: u32) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let model = Mlp::new(sizes, activation, seed).unwrap();
    let x: Vec<f32> = (0..ROWS * sizes[0])
        .map(|_| (rng.next_f64() * 4.0 - 2.0) as f32)
        .collect();
    let target = make_targets(loss, sizes[sizes.len() - 1], &mut rng);

    let mut workspace = model.workspace(ROWS);
    let x_view = ArrayView2::from_shape((ROWS, sizes[0]), &x).unwrap();
    let value = model
        .compute_gradients(&mut workspace, x_view, target.as_targets(), loss)
        .unwrap();
    let params = params_of(&model);
    let mut failures = Vec::new();
    let reference = reference_loss(sizes, &params, activation, loss, &x, &target);
    if (value - reference).abs() > ABSOLUTE + RELATIVE * reference.abs() {
        failures.push(format!(
            "{sizes:?} {activation}/{loss}: loss {value}, reference {reference}"
        ));
    }

    for (l, gradient) in workspace.gradients().iter().enumerate() {
        let tensors = [
            ("weight", 0, gradient.weight.as_slice().unwrap()),
            ("bias", 1, gradient.bias.as_slice().unwrap()),
        ];
        for (name, which, analytic) in tensors {
            for (index, &analytic) in analytic.iter().enumerate() {
                let numeric = central_difference(&params, l, which, index, |p| {
                    reference_loss(sizes, p, activation, loss, &x, &target)
                });
                let error = (f64::from(analytic) - numeric).abs();
                if error > ABSOLUTE + RELATIVE * numeric.abs() {
                    failures.push(format!(
                        "{sizes:?} {activation}/{loss}: layer {l} {name}[{index}] analytic {analytic}, \
                         numeric {numeric}"
                    ));
                }
            }
        }
    }
    failures
}

fn central_difference(
    params: &Params,
    layer: usize,
    which: usize,
    index: usize,
    loss: impl Fn(&Params) -> f64,
) -> f64 {
    let mut shifted = params.clone();
    let mut value_at = |delta: f64| {
        let tensor = if which == 0 {
            &mut shifted[layer].0
        } else {
            &mut shifted[layer].1
        };
        tensor[index] = if which == 0 {
            params[layer].0[index]
        } else {
            params[layer].1[index]
        } + delta;
        loss(&shifted)
    };
    (value_at(STEP) - value_at(-STEP)) / (2.0 * STEP)
}

#[test]
fn every_activation_and_loss_matches_finite_differences() {
    let mut failures = Vec::new();
    for sizes in &NETS {
        for activation in Activation::ALL {
            for loss in Loss::ALL {
                for seed in [1, 2] {
                    failures.extend(check(sizes, activation, loss, seed));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn gradients_reject_oversized_batch() {
    let model = Mlp::new(&NETS[0], Activation::Relu, 0).unwrap();
    let mut workspace = model.workspace(2);
    let x = ndarray::Array2::zeros((3, NETS[0][0]));
    let y = ndarray::Array2::zeros((3, NETS[0][3]));
    let error = model
        .compute_gradients(
            &mut workspace,
            x.view(),
            Targets::Values(y.view()),
            Loss::Mse,
        )
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("invalid batch of 3 rows: the workspace takes 1 to 2 rows"),
        "{error}"
    );
}
