//! Loss functions with PyTorch's mean reduction, their gradients, and
//! accuracy for validation.
//!
//! Losses are summed in f64 and gradients are computed in f64 and rounded
//! once to f32, except the mean squared error gradient, which follows
//! PyTorch's f32 arithmetic `(output - target) * (2 / count)`.

use std::fmt;
use std::str::FromStr;

use ndarray::{s, ArrayView1, ArrayView2, ArrayViewMut2};

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

/// The targets of a data set or a batch, one row per sample. The views may
/// have any layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Targets<'a> {
    /// One class index in `[0, outputs)` per row, for `cross_entropy`.
    Classes(ArrayView1<'a, i32>),
    /// A `[rows, outputs]` matrix, for `mse` and `bce_with_logits`.
    Values(ArrayView2<'a, f32>),
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
    /// `output` is the model output, `[rows, outputs]`. The terms are added
    /// in row-major order whatever the layouts.
    ///
    /// # Panics
    ///
    /// Panics if the targets have the wrong kind or shape for this loss.
    /// [`Targets::validate`] checks them without panicking.
    pub fn sum(self, output: ArrayView2<'_, f32>, targets: Targets<'_>) -> f64 {
        match (self, targets) {
            (Loss::Mse, Targets::Values(y)) => {
                assert_eq!(output.dim(), y.dim(), "mse targets shape");
                output
                    .iter()
                    .zip(&y)
                    .map(|(&z, &y)| squared_error(z, y))
                    .sum()
            }
            (Loss::BceWithLogits, Targets::Values(y)) => {
                assert_eq!(output.dim(), y.dim(), "bce_with_logits targets shape");
                output.iter().zip(&y).map(|(&z, &y)| bce_term(z, y)).sum()
            }
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                assert_eq!(
                    output.nrows(),
                    classes.len(),
                    "cross_entropy targets length"
                );
                let rows = output.rows().into_iter().zip(&classes);
                rows.map(|(z, &class)| log_sum_exp(z).0 - f64::from(z[class as usize]))
                    .sum()
            }
            _ => panic!("{} takes {} targets", self.name(), self.target_kind()),
        }
    }

    /// Returns the mean loss of a batch and writes its gradient with
    /// respect to `output` into `grad`.
    ///
    /// `output` and `grad` are `[rows, outputs]`, and the loss terms are
    /// added in row-major order whatever the layouts.
    ///
    /// # Panics
    ///
    /// Panics if `grad` differs in shape from `output`, or if the targets
    /// have the wrong kind or shape for this loss.
    pub fn forward_backward(
        self,
        output: ArrayView2<'_, f32>,
        targets: Targets<'_>,
        grad: ArrayViewMut2<'_, f32>,
    ) -> f64 {
        assert_eq!(output.dim(), grad.dim(), "loss gradient shape");
        let (rows, outputs) = output.dim();
        let count = self.mean_count(rows, outputs);
        if count == 0 {
            return f64::NAN;
        }
        let sum = match (self, targets) {
            (Loss::Mse, Targets::Values(y)) => mse_backward(output, y, count, grad),
            (Loss::BceWithLogits, Targets::Values(y)) => bce_backward(output, y, count, grad),
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                cross_entropy_backward(output, classes, grad)
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
    /// `output` is the model output, `[rows, outputs]`.
    ///
    /// # Panics
    ///
    /// Panics if the targets have the wrong kind or shape for this loss.
    pub fn count_correct(
        self,
        output: ArrayView2<'_, f32>,
        targets: Targets<'_>,
    ) -> Option<(usize, usize)> {
        match (self, targets) {
            (Loss::Mse, _) => None,
            (Loss::BceWithLogits, Targets::Values(y)) => {
                assert_eq!(output.dim(), y.dim(), "bce_with_logits targets shape");
                let correct = output
                    .iter()
                    .zip(&y)
                    .filter(|(&z, &y)| (z > 0.0) == (y >= 0.5));
                Some((correct.count(), y.len()))
            }
            (Loss::CrossEntropy, Targets::Classes(classes)) => {
                assert_eq!(
                    output.nrows(),
                    classes.len(),
                    "cross_entropy targets length"
                );
                let rows = output.rows().into_iter().zip(&classes);
                let correct = rows.filter(|(z, &class)| argmax(*z) == class as usize);
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
    /// Returns the number of rows.
    pub fn rows(&self) -> usize {
        match self {
            Targets::Classes(classes) => classes.len(),
            Targets::Values(values) => values.nrows(),
        }
    }

    /// Returns the targets of rows `start..end`.
    ///
    /// # Panics
    ///
    /// Panics if the range is out of bounds.
    pub fn slice_rows(&self, start: usize, end: usize) -> Targets<'a> {
        match *self {
            Targets::Classes(classes) => Targets::Classes(classes.slice_move(s![start..end])),
            Targets::Values(values) => Targets::Values(values.slice_move(s![start..end, ..])),
        }
    }

    /// Checks that the targets suit `loss` and a model with `outputs`
    /// outputs applied to `rows` rows: the right kind, the right shape,
    /// class indices in `[0, outputs)`, finite values, and values in
    /// `[0, 1]` for `bce_with_logits`.
    ///
    /// `name` names the targets in messages, such as `"y"`.
    ///
    /// PyTorch's `BCEWithLogitsLoss` accepts targets outside `[0, 1]`; this
    /// check rejects them because the loss has no meaning there.
    pub fn validate(&self, loss: Loss, rows: usize, outputs: usize, name: &str) -> Result<()> {
        match (loss, *self) {
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
                "{loss} takes a [rows, {outputs}] matrix of float targets but {name} contains \
                 class indices: pass float values, or use cross_entropy for classes"
            ))),
        }
    }
}

fn validate_classes(
    classes: ArrayView1<'_, i32>,
    rows: usize,
    outputs: usize,
    name: &str,
) -> Result<()> {
    if classes.len() != rows {
        return Err(Error::Shape(format!(
            "{name} has shape [{}] but x has {rows} rows, so it needs shape [{rows}]: \
             pass one class per row",
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
    values: ArrayView2<'_, f32>,
    rows: usize,
    outputs: usize,
    name: &str,
    unit_interval: bool,
) -> Result<()> {
    if values.dim() != (rows, outputs) {
        let (value_rows, value_cols) = values.dim();
        return Err(Error::Shape(format!(
            "{name} has shape [{value_rows}, {value_cols}] but x has {rows} rows and the \
             model has {outputs} outputs, so it needs shape [{rows}, {outputs}]"
        )));
    }
    for ((row, col), &value) in values.indexed_iter() {
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
fn log_sum_exp(z: ArrayView1<'_, f32>) -> (f64, f64) {
    let max = z
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    let sum: f64 = z.iter().map(|&v| (f64::from(v) - max).exp()).sum();
    (max + sum.ln(), max)
}

fn argmax(z: ArrayView1<'_, f32>) -> usize {
    let mut best = 0;
    for (index, &value) in z.iter().enumerate() {
        if value > z[best] {
            best = index;
        }
    }
    best
}

fn mse_backward(
    output: ArrayView2<'_, f32>,
    y: ArrayView2<'_, f32>,
    count: usize,
    mut grad: ArrayViewMut2<'_, f32>,
) -> f64 {
    assert_eq!(output.dim(), y.dim(), "mse targets shape");
    let scale = (2.0 / count as f64) as f32;
    let term = |(g, &z, &y): (&mut f32, &f32, &f32)| {
        *g = (z - y) * scale;
        squared_error(z, y)
    };
    match (output.as_slice(), y.as_slice(), grad.as_slice_mut()) {
        (Some(output), Some(y), Some(grad)) => sum_terms(grad, output, y, term),
        _ => sum_terms(&mut grad, output, y, term),
    }
}

fn bce_backward(
    output: ArrayView2<'_, f32>,
    y: ArrayView2<'_, f32>,
    count: usize,
    mut grad: ArrayViewMut2<'_, f32>,
) -> f64 {
    assert_eq!(output.dim(), y.dim(), "bce_with_logits targets shape");
    let scale = 1.0 / count as f64;
    let term = |(g, &z, &y): (&mut f32, &f32, &f32)| {
        let sigmoid = 1.0 / (1.0 + (-f64::from(z)).exp());
        *g = ((sigmoid - f64::from(y)) * scale) as f32;
        bce_term(z, y)
    };
    match (output.as_slice(), y.as_slice(), grad.as_slice_mut()) {
        (Some(output), Some(y), Some(grad)) => sum_terms(grad, output, y, term),
        _ => sum_terms(&mut grad, output, y, term),
    }
}

/// Returns the sum of `term` over the elements of `grad`, `output` and `y`
/// taken together in row-major order. Callers pass slices when all three
/// arrays are in standard layout, which lets the loop vectorize, and the
/// arrays otherwise. Both give the same bits.
fn sum_terms<'a, G, O, Y>(
    grad: G,
    output: O,
    y: Y,
    term: impl Fn((&'a mut f32, &'a f32, &'a f32)) -> f64,
) -> f64
where
    G: IntoIterator<Item = &'a mut f32>,
    O: IntoIterator<Item = &'a f32>,
    Y: IntoIterator<Item = &'a f32>,
{
    let mut sum = 0.0;
    for ((g, z), y) in grad.into_iter().zip(output).zip(y) {
        sum += term((g, z, y));
    }
    sum
}

fn cross_entropy_backward(
    output: ArrayView2<'_, f32>,
    classes: ArrayView1<'_, i32>,
    mut grad: ArrayViewMut2<'_, f32>,
) -> f64 {
    assert_eq!(
        output.nrows(),
        classes.len(),
        "cross_entropy targets length"
    );
    let scale = 1.0 / classes.len() as f64;
    let mut sum = 0.0;
    let rows = output.rows().into_iter().zip(grad.rows_mut());
    for ((z, mut g), &class) in rows.zip(&classes) {
        let class = class as usize;
        let (lse, _) = log_sum_exp(z);
        sum += lse - f64::from(z[class]);
        for (index, (g, &v)) in g.iter_mut().zip(&z).enumerate() {
            let softmax = (f64::from(v) - lse).exp();
            let target = if index == class { 1.0 } else { 0.0 };
            *g = ((softmax - target) * scale) as f32;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use ndarray::{arr1, arr2, Array2};

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
        let mut grad = Array2::zeros((1, 2));
        // ((1 - 0)^2 + (3 - 1)^2) / 2 = 2.5, gradient 2 (z - y) / 2.
        let y = arr2(&[[0.0, 1.0]]);
        let output = arr2(&[[1.0, 3.0]]);
        let loss =
            Loss::Mse.forward_backward(output.view(), Targets::Values(y.view()), grad.view_mut());
        assert_eq!(loss, 2.5);
        assert_eq!(grad, arr2(&[[1.0, 2.0]]));

        // Equal logits: log(2) - 0, softmax 0.5 each.
        let classes = arr1(&[1]);
        let output = arr2(&[[0.0, 0.0]]);
        let loss = Loss::CrossEntropy.forward_backward(
            output.view(),
            Targets::Classes(classes.view()),
            grad.view_mut(),
        );
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(grad, arr2(&[[0.5, -0.5]]));

        // z = 0: log(2), gradient sigmoid(0) - y.
        let mut grad = Array2::zeros((1, 1));
        let y = arr2(&[[1.0]]);
        let output = arr2(&[[0.0]]);
        let loss = Loss::BceWithLogits.forward_backward(
            output.view(),
            Targets::Values(y.view()),
            grad.view_mut(),
        );
        assert!((loss - std::f64::consts::LN_2).abs() < 1e-15);
        assert_eq!(grad, arr2(&[[-0.5]]));
    }

    #[test]
    fn transposed_views_match_standard_layout() {
        // The same matrices stored column-major: the sum runs in row-major
        // order, so the loss and the gradient match bit for bit.
        let output = arr2(&[[0.3, -1.2, 2.5], [1.1, 0.4, -0.7]]);
        let y = arr2(&[[0.0, 1.0, 0.5], [1.0, 0.25, 0.0]]);
        let output_f = output.t().as_standard_layout().into_owned().reversed_axes();
        let y_f = y.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!output_f.is_standard_layout());

        for loss in [Loss::Mse, Loss::BceWithLogits] {
            let mut grad = Array2::zeros((2, 3));
            let expected =
                loss.forward_backward(output.view(), Targets::Values(y.view()), grad.view_mut());
            let mut grad_f = Array2::zeros((3, 2)).reversed_axes();
            let value = loss.forward_backward(
                output_f.view(),
                Targets::Values(y_f.view()),
                grad_f.view_mut(),
            );
            assert_eq!(value.to_bits(), expected.to_bits(), "{loss} value");
            assert_eq!(grad_f, grad, "{loss} gradient");
        }

        let classes = arr1(&[2, 0]);
        let mut grad = Array2::zeros((2, 3));
        let expected = Loss::CrossEntropy.forward_backward(
            output.view(),
            Targets::Classes(classes.view()),
            grad.view_mut(),
        );
        let mut grad_f = Array2::zeros((3, 2)).reversed_axes();
        let value = Loss::CrossEntropy.forward_backward(
            output_f.view(),
            Targets::Classes(classes.view()),
            grad_f.view_mut(),
        );
        assert_eq!(value.to_bits(), expected.to_bits(), "cross_entropy value");
        assert_eq!(grad_f, grad, "cross_entropy gradient");
    }

    #[test]
    fn cross_entropy_is_stable_for_large_logits() {
        let mut grad = Array2::zeros((1, 2));
        let output = arr2(&[[1e30, 0.0]]);
        let classes = arr1(&[0]);
        let loss = Loss::CrossEntropy.forward_backward(
            output.view(),
            Targets::Classes(classes.view()),
            grad.view_mut(),
        );
        assert_eq!(loss, 0.0);
        assert_eq!(grad, arr2(&[[0.0, 0.0]]));
        let output = arr2(&[[-1e4]]);
        let y = arr2(&[[1.0]]);
        let loss = Loss::BceWithLogits.sum(output.view(), Targets::Values(y.view()));
        assert_eq!(loss, 1e4);
    }

    #[test]
    fn accuracy_counts() {
        let logits = arr2(&[[0.1, 0.9, 0.0], [2.0, -1.0, 2.0]]);
        let classes = arr1(&[1, 2]);
        let correct =
            Loss::CrossEntropy.count_correct(logits.view(), Targets::Classes(classes.view()));
        // The second row ties between classes 0 and 2, and the first wins.
        assert_eq!(correct, Some((1, 2)));
        let output = arr2(&[[0.5], [-0.5], [0.0]]);
        let y = arr2(&[[1.0], [0.0], [0.5]]);
        let correct = Loss::BceWithLogits.count_correct(output.view(), Targets::Values(y.view()));
        assert_eq!(correct, Some((2, 3)));
        let zero = arr2(&[[0.0]]);
        assert_eq!(
            Loss::Mse.count_correct(zero.view(), Targets::Values(zero.view())),
            None
        );
    }

    #[test]
    fn slice_rows_keeps_the_rows() {
        let classes = arr1(&[4, 5, 6, 7]);
        let sliced = Targets::Classes(classes.view()).slice_rows(1, 3);
        assert_eq!(sliced, Targets::Classes(classes.slice(s![1..3])));
        assert_eq!(sliced.rows(), 2);
        let values = arr2(&[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
        let sliced = Targets::Values(values.view()).slice_rows(2, 3);
        let last_row = arr2(&[[4.0, 5.0]]);
        assert_eq!(sliced, Targets::Values(last_row.view()));
        assert_eq!(sliced.rows(), 1);
    }

    #[test]
    fn validation_names_the_value() {
        let classes = arr1(&[0, 3]);
        let err = Targets::Classes(classes.view())
            .validate(Loss::CrossEntropy, 2, 3, "y")
            .unwrap_err();
        assert!(err.to_string().contains("y[1] = 3"), "{err}");
        assert!(err.to_string().contains("[0, 3)"), "{err}");

        let err = Targets::Classes(classes.slice(s![..1]))
            .validate(Loss::CrossEntropy, 2, 3, "y")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("y has shape [1] but x has 2 rows, so it needs shape [2]"),
            "{err}"
        );

        let values = arr2(&[[0.0, f32::NAN]]);
        let err = Targets::Values(values.view())
            .validate(Loss::Mse, 1, 2, "y")
            .unwrap_err();
        assert!(err.to_string().contains("y[0][1] is NaN"), "{err}");

        let values = arr2(&[[1.5]]);
        let err = Targets::Values(values.view())
            .validate(Loss::BceWithLogits, 1, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string().contains("y[0][0] = 1.5 is outside [0, 1]"),
            "{err}"
        );

        let err = Targets::Values(values.view())
            .validate(Loss::CrossEntropy, 1, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cross_entropy takes class indices"),
            "{err}"
        );

        let err = Targets::Classes(classes.view())
            .validate(Loss::Mse, 2, 1, "y")
            .unwrap_err();
        assert!(
            err.to_string().contains("mse takes a [rows, 1] matrix"),
            "{err}"
        );

        let values = Array2::zeros((3, 1));
        let err = Targets::Values(values.view())
            .validate(Loss::Mse, 2, 2, "val_y")
            .unwrap_err();
        assert!(
            err.to_string().contains(
                "val_y has shape [3, 1] but x has 2 rows and the model has 2 outputs, \
                 so it needs shape [2, 2]"
            ),
            "{err}"
        );
    }
}
