//! Loss functions with PyTorch's mean reduction, their gradients, and
//! accuracy for validation.
//!
//! Losses are summed in f64 and gradients are computed in f64 and rounded
//! once to f32, except the mean squared error gradient, which follows
//! PyTorch's f32 arithmetic `(output - target) * (2 / count)`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A training objective, averaged over the batch as PyTorch's default
/// `reduction = "mean"` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Loss {
    /// Mean of `(output - target)^2` over every element (`nn.MSELoss`).
    Mse,
    /// Mean over rows of `logsumexp(z) - z[class]`, with class indices as
    /// targets (`nn.CrossEntropyLoss`).
    CrossEntropy,
    /// Mean over every element of `max(z, 0) - z y + log(1 + exp(-|z|))`,
    /// with targets in `[0, 1]` (`nn.BCEWithLogitsLoss`).
    BceWithLogits,
}

/// The targets of a data set or a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Targets<'a> {
    /// One class index in `[0, outputs)` per row, for `cross_entropy`.
    Classes(&'a [i32]),
    /// A row-major `[rows][outputs]` matrix, for `mse` and
    /// `bce_with_logits`.
    Values(&'a [f32]),
}

impl Loss {
    /// Every loss, in the order of [`Loss::NAMES`].
    pub const ALL: [Loss; 3] = [Loss::Mse, Loss::CrossEntropy, Loss::BceWithLogits];

    /// The names accepted by [`str::parse`], in the order of [`Loss::ALL`].
    pub const NAMES: [&'static str; 3] = ["mse", "cross_entropy", "bce_with_logits"];

    /// Returns the name that [`str::parse`] accepts for this loss.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross_entropy",
            Loss::BceWithLogits => "bce_with_logits",
        }
    }

    /// Returns whether the loss takes class indices ([`Targets::Classes`]) rather
    /// than a matrix of values.
    pub fn takes_classes(self) -> bool {
        self == Loss::CrossEntropy
    }

    /// Returns whether validation reports an accuracy for this loss.
    pub fn has_accuracy(self) -> bool {
        self != Loss::Mse
    }

    /// Returns the number of terms that the mean divides by: `rows` for
    /// cross-entropy, `rows * outputs` for the element-wise losses.
    pub fn mean_count(self, rows: usize, outputs: usize) -> usize {
        match self {
            Loss::CrossEntropy => rows,
            Loss::Mse | Loss::BceWithLogits => rows * outputs,
        }
    }

    /// Returns the sum of the loss terms of a batch, in f64; divide by
    /// [`Loss::mean_count`] for the mean.
    ///
    /// `output` is the model output, row-major `[rows][outputs]`.
    ///
    /// # Panics
    ///
    /// Panics if the targets have the wrong kind or length for this loss.
    /// [`Targets::validate`] checks them without panicking.
    pub fn sum(self, output: &[f32], outputs: usize, targets: Targets<'_>) -> f64 {
        match (self, targets) {
            (Loss::Mse, Targets::Values(y)) => {
                assert_eq!(output.len(), y.len(), "mse targets length");
                output
                    .iter()
                    .zip(y)
                    .map(|(&z, &y)| squared_error(z, y))
                    .sum()
            }
            (Loss::BceWithLogits, Targets::Values(y)) => {
                assert_eq!(output.len(), y.len(), "bce_with_logits targets length");
                output.iter().zip(y).map(|(&z, &y)| bce_term(z, y)).sum()
            }
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                assert_eq!(
                    output.len(),
                    classes.len() * outputs,
                    "cross_entropy targets length"
                );
                let rows = output.chunks_exact(outputs).zip(classes);
                rows.map(|(z, &class)| log_sum_exp(z).0 - f64::from(z[class as usize]))
                    .sum()
            }
            _ => panic!("{} takes {} targets", self.name(), self.target_kind()),
        }
    }

    /// Returns the mean loss of a batch and writes its gradient with
    /// respect to `output` into `grad`.
    ///
    /// # Panics
    ///
    /// Panics if `grad` differs in length from `output`, or if the targets
    /// have the wrong kind or length for this loss.
    pub fn forward_backward(
        self,
        output: &[f32],
        outputs: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
    ) -> f64 {
        assert_eq!(output.len(), grad.len(), "loss gradient length");
        let rows = output.len().checked_div(outputs).unwrap_or(0);
        let count = self.mean_count(rows, outputs);
        if count == 0 {
            return f64::NAN;
        }
        let sum = match (self, targets) {
            (Loss::Mse, Targets::Values(y)) => mse_backward(output, y, count, grad),
            (Loss::BceWithLogits, Targets::Values(y)) => bce_backward(output, y, count, grad),
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                cross_entropy_backward(output, outputs, classes, grad)
            }
            _ => panic!("{} takes {} targets", self.name(), self.target_kind()),
        };
        sum / count as f64
    }

    /// Counts correct predictions: the rows whose largest logit is the
    /// target class for cross-entropy (the first one on a tie), and the
    /// elements where `z > 0` agrees with `y >= 0.5` for binary
    /// cross-entropy. Returns `None` for mse.
    ///
    /// Returns `(correct, total)`, where `total` is rows or elements.
    ///
    /// # Panics
    ///
    /// Panics if the targets have the wrong kind or length for this loss.
    pub fn count_correct(
        self,
        output: &[f32],
        outputs: usize,
        targets: Targets<'_>,
    ) -> Option<(usize, usize)> {
        match (self, targets) {
            (Loss::Mse, _) => None,
            (Loss::BceWithLogits, Targets::Values(y)) => {
                assert_eq!(output.len(), y.len(), "bce_with_logits targets length");
                let correct = output
                    .iter()
                    .zip(y)
                    .filter(|(&z, &y)| (z > 0.0) == (y >= 0.5));
                Some((correct.count(), y.len()))
            }
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                assert_eq!(
                    output.len(),
                    classes.len() * outputs,
                    "cross_entropy targets length"
                );
                let rows = output.chunks_exact(outputs).zip(classes);
                let correct = rows.filter(|(z, &class)| argmax(z) == class as usize);
                Some((correct.count(), classes.len()))
            }
            _ => panic!("{} takes {} targets", self.name(), self.target_kind()),
        }
    }

    fn target_kind(self) -> &'static str {
        if self.takes_classes() {
            "class index"
        } else {
            "value"
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Loss {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Loss::ALL
            .into_iter()
            .find(|loss| loss.name() == name)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown loss {name:?}: expected one of {}",
                    Loss::NAMES.join(", ")
                ))
            })
    }
}

impl<'a> Targets<'a> {
    /// Returns the number of rows, given the model's output count.
    pub fn rows(&self, outputs: usize) -> usize {
        match self {
            Targets::Classes(classes) => classes.len(),
            Targets::Values(values) if outputs > 0 => values.len() / outputs,
            Targets::Values(_) => 0,
        }
    }

    /// Returns the targets of rows `start..end`, given the model's output
    /// count.
    ///
    /// # Panics
    ///
    /// Panics if the range is out of bounds.
    pub fn slice_rows(&self, start: usize, end: usize, outputs: usize) -> Targets<'a> {
        match *self {
            Targets::Classes(classes) => Targets::Classes(&classes[start..end]),
            Targets::Values(values) => Targets::Values(&values[start * outputs..end * outputs]),
        }
    }

    /// Checks that the targets suit `loss` and a model with `outputs`
    /// outputs applied to `rows` rows: the right kind, the right length,
    /// class indices in `[0, outputs)`, finite values, and values in
    /// `[0, 1]` for `bce_with_logits`.
    ///
    /// `name` names the targets in messages, such as `"y"`.
    ///
    /// PyTorch's `BCEWithLogitsLoss` accepts targets outside `[0, 1]`; this
    /// check rejects them because the loss has no meaning there.
    pub fn validate(&self, loss: Loss, rows: usize, outputs: usize, name: &str) -> Result<()> {
        match (loss, self) {
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                validate_classes(classes, rows, outputs, name)
            }
            (Loss::Mse | Loss::BceWithLogits, Targets::Values(values)) => {
                validate_values(values, rows, outputs, name, loss == Loss::BceWithLogits)
            }
            (Loss::CrossEntropy, Targets::Values(_)) => Err(Error::Shape(format!(
                "cross_entropy takes class indices but {name} holds float values: \
                 pass one integer class in [0, {outputs}) per row"
            ))),
            (_, Targets::Classes(_)) => Err(Error::Shape(format!(
                "{loss} takes a [rows][{outputs}] matrix of float targets but {name} holds \
                 class indices: pass float values, or use cross_entropy for classes"
            ))),
        }
    }
}

fn validate_classes(classes: &[i32], rows: usize, outputs: usize, name: &str) -> Result<()> {
    if classes.len() != rows {
        return Err(Error::Shape(format!(
            "{name} has {} class indices but x has {rows} rows: pass one class per row",
            classes.len()
        )));
    }
    for (row, &class) in classes.iter().enumerate() {
        if class < 0 || class as usize >= outputs {
            return Err(Error::InvalidOption(format!(
                "{name}[{row}] = {class} is not a class index in [0, {outputs}): \
                 the model has {outputs} outputs, one per class"
            )));
        }
    }
    Ok(())
}

fn validate_values(
    values: &[f32],
    rows: usize,
    outputs: usize,
    name: &str,
    unit_interval: bool,
) -> Result<()> {
    if values.len() != rows * outputs {
        return Err(Error::Shape(format!(
            "{name} has {} values but {rows} rows × {outputs} outputs need {}",
            values.len(),
            rows * outputs
        )));
    }
    for (index, &value) in values.iter().enumerate() {
        let (row, col) = (index / outputs, index % outputs);
        if !value.is_finite() {
            return Err(Error::NonFinite(format!(
                "{name}[{row}][{col}] is {value}: remove or replace non-finite targets"
            )));
        }
        if unit_interval && !(0.0..=1.0).contains(&value) {
            return Err(Error::InvalidOption(format!(
                "{name}[{row}][{col}] = {value} is outside [0, 1], \
                 which bce_with_logits targets must be in"
            )));
        }
    }
    Ok(())
}

fn squared_error(z: f32, y: f32) -> f64 {
    let d = f64::from(z) - f64::from(y);
    d * d
}

/// `max(z, 0) - z y + log(1 + exp(-|z|))`, stable for large `|z|`.
fn bce_term(z: f32, y: f32) -> f64 {
    let (z, y) = (f64::from(z), f64::from(y));
    z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
}

/// Returns `(max + log(sum(exp(z - max))), max)` for one row.
fn log_sum_exp(z: &[f32]) -> (f64, f64) {
    let max = z
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let sum: f64 = z.iter().map(|&v| (f64::from(v) - max).exp()).sum();
    (max + sum.ln(), max)
}

fn argmax(z: &[f32]) -> usize {
    let mut best = 0;
    for (index, &value) in z.iter().enumerate() {
        if value > z[best] {
            best = index;
        }
    }
    best
}

fn mse_backward(output: &[f32], y: &[f32], count: usize, grad: &mut [f32]) -> f64 {
    assert_eq!(output.len(), y.len(), "mse targets length");
    let scale = (2.0 / count as f64) as f32;
    let mut sum = 0.0;
    for ((g, &z), &y) in grad.iter_mut().zip(output).zip(y) {
        *g = (z - y) * scale;
        sum += squared_error(z, y);
    }
    sum
}

fn bce_backward(output: &[f32], y: &[f32], count: usize, grad: &mut [f32]) -> f64 {
    assert_eq!(output.len(), y.len(), "bce_with_logits targets length");
    let scale = 1.0 / count as f64;
    let mut sum = 0.0;
    for ((g, &z), &y) in grad.iter_mut().zip(output).zip(y) {
        let sigmoid = 1.0 / (1.0 + (-f64::from(z)).exp());
        *g = ((sigmoid - f64::from(y)) * scale) as f32;
        sum += bce_term(z, y);
    }
    sum
}

fn cross_entropy_backward(
    output: &[f32],
    outputs: usize,
    classes: &[i32],
    grad: &mut [f32],
) -> f64 {
    assert_eq!(
        output.len(),
        classes.len() * outputs,
        "cross_entropy targets length"
    );
    let scale = 1.0 / classes.len() as f64;
    let mut sum = 0.0;
    let rows = output
        .chunks_exact(outputs)
        .zip(grad.chunks_exact_mut(outputs));
    for ((z, g), &class) in rows.zip(classes) {
        let class = class as usize;
        let (lse, _) = log_sum_exp(z);
        sum += lse - f64::from(z[class]);
        for (index, (g, &v)) in g.iter_mut().zip(z).enumerate() {
            let softmax = (f64::from(v) - lse).exp();
            let target = if index == class { 1.0 } else { 0.0 };
            *g = ((softmax - target) * scale) as f32;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (loss, name) in Loss::ALL.into_iter().zip(Loss::NAMES) {
            assert_eq!(name.parse::<Loss>().unwrap(), loss);
            assert_eq!(loss.to_string(), name);
        }
        let message = "hinge".parse::<Loss>().unwrap_err().to_string();
        assert!(message.contains("\"hinge\""), "{message}");
        assert!(
            message.contains("mse, cross_entropy, bce_with_logits"),
            "{message}"
        );
    }

    #[test]
    fn values_by_hand() {
        let mut grad = [0.0; 2];
        // ((1 - 0)^2 + (3 - 1)^2) / 2 = 2.5, gradient 2 (z - y) / 2.
        let loss =
            Loss::Mse.forward_backward(&[1.0, 3.0], 2, Targets::Values(&[0.0, 1.0]), &mut grad);
        assert_eq!(loss, 2.5);
        assert_eq!(grad, [1.0, 2.0]);

        // Equal logits: log(2) - 0, softmax 0.5 each.
        let classes = Targets::Classes(&[1]);
        let loss = Loss::CrossEntropy.forward_backward(&[0.0, 0.0], 2, classes, &mut grad);
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(grad, [0.5, -0.5]);

        // z = 0: log(2), gradient sigmoid(0) - y.
        let mut grad = [0.0; 1];
        let loss =
            Loss::BceWithLogits.forward_backward(&[0.0], 1, Targets::Values(&[1.0]), &mut grad);
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(grad, [-0.5]);
    }

    #[test]
    fn cross_entropy_is_stable_for_large_logits() {
        let mut grad = [0.0; 2];
        let loss =
            Loss::CrossEntropy.forward_backward(&[1e30, 0.0], 2, Targets::Classes(&[0]), &mut grad);
        assert_eq!(loss, 0.0);
        assert_eq!(grad, [0.0, 0.0]);
        let loss = Loss::BceWithLogits.sum(&[-1e4], 1, Targets::Values(&[1.0]));
        assert_eq!(loss, 1e4);
    }

    #[test]
    fn accuracy_counts() {
        let logits = [0.1, 0.9, 0.0, 2.0, -1.0, 2.0];
        let correct = Loss::CrossEntropy.count_correct(&logits, 3, Targets::Classes(&[1, 2]));
        // The second row ties between classes 0 and 2, and the first wins.
        assert_eq!(correct, Some((1, 2)));
        let correct = Loss::BceWithLogits.count_correct(
            &[0.5, -0.5, 0.0],
            1,
            Targets::Values(&[1.0, 0.0, 0.5]),
        );
        assert_eq!(correct, Some((2, 3)));
        assert_eq!(
            Loss::Mse.count_correct(&[0.0], 1, Targets::Values(&[0.0])),
            None
        );
    }

    #[test]
    fn validation_names_the_value() {
        let err = Targets::Classes(&[0, 3])
            .validate(Loss::CrossEntropy, 2, 3, "y")
            .unwrap_err();
        assert!(err.to_string().contains("y[1] = 3"), "{err}");
        assert!(err.to_string().contains("[0, 3)"), "{err}");

        let err = Targets::Classes(&[0])
            .validate(Loss::CrossEntropy, 2, 3, "y")
            .unwrap_err();
        assert!(
            err.to_string().contains("1 class indices but x has 2 rows"),
            "{err}"
        );

        let values = [0.0, f32::NAN];
        let err = Targets::Values(&values)
            .validate(Loss::Mse, 1, 2, "y")
            .unwrap_err();
        assert!(err.to_string().contains("y[0][1] is NaN"), "{err}");

        let err = Targets::Values(&[1.5])
            .validate(Loss::BceWithLogits, 1, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string().contains("y[0][0] = 1.5 is outside [0, 1]"),
            "{err}"
        );

        let err = Targets::Values(&[1.0])
            .validate(Loss::CrossEntropy, 1, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cross_entropy takes class indices"),
            "{err}"
        );

        let err = Targets::Classes(&[0])
            .validate(Loss::Mse, 1, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string().contains("mse takes a [rows][1] matrix"),
            "{err}"
        );

        let err = Targets::Values(&[0.0; 3])
            .validate(Loss::Mse, 2, 2, "val_y")
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("val_y has 3 values but 2 rows × 2 outputs need 4"));
    }
}
