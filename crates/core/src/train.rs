//! The training loop: minibatch SGD under an optional 1cycle schedule.
//!
//! Batches follow the shuffling rules shared with the TypeScript engine:
//! `steps_per_epoch` is `floor(rows / batch_size)` with `drop_last` and
//! `ceil(rows / batch_size)` without. Each epoch starts from the previous
//! epoch's row order (the identity at first) and, with `shuffle`, shuffles it
//! with Fisher-Yates from the top using an [`Rng`] seeded with
//! [`FitOptions::seed`]. Batch `t`, counted across epochs from 0, trains with
//! the schedule's values at step `t`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::gemm::{self, PARALLEL_MIN_WORK};
use crate::loss::{Loss, Targets};
use crate::mlp::{validate_inputs, Mlp, Workspace, MAX_LAYER_PARAMETERS};
use crate::rng::Rng;
use crate::schedule::{OneCycleLR, OneCycleOptions};
use crate::sgd::{Sgd, SgdOptions};

/// Batch input elements from which the rows are gathered by several
/// threads.
const PARALLEL_GATHER_MIN: usize = 1 << 15;

/// The maximum of [`FitOptions::threads`]. It is a cap on the OS threads
/// that one training pool starts, not a tuning value: past the CPU count,
/// more threads only slow training down.
pub const MAX_THREADS: usize = 256;

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Passes over the training data, at least 1. Default 1.
    pub epochs: usize,
    /// Rows per batch, at least 1; it may exceed the number of rows.
    /// Default 32.
    pub batch_size: usize,
    /// The objective. Default [`Loss::Mse`].
    pub loss: Loss,
    /// Optimizer options. Under a schedule, its learning rate (and, with
    /// `cycle_momentum`, its momentum) are replaced at every step.
    pub sgd: SgdOptions,
    /// A 1cycle schedule. `None` of `total_steps`, `epochs` and
    /// `steps_per_epoch` means `epochs * steps_per_epoch` of this run, and
    /// `groups` defaults to the one group that contains every parameter.
    /// Default `None`: a constant learning rate.
    pub schedule: Option<OneCycleOptions>,
    /// Whether to shuffle the row order at the start of every epoch.
    /// Default true.
    pub shuffle: bool,
    /// Seed of the shuffling generator, separate from the model's
    /// initialisation seed. Default 0.
    pub seed: u32,
    /// Whether to skip the last batch of an epoch when it is smaller than
    /// `batch_size`. Default false.
    pub drop_last: bool,
    /// Whether [`History::steps`] records the learning rate, momentum and
    /// loss of every step. Default false.
    pub record_steps: bool,
    /// Worker threads for the matrix products, from 1 to [`MAX_THREADS`].
    /// Default `None`: rayon's default, `RAYON_NUM_THREADS` or else one per
    /// logical CPU.
    pub threads: Option<usize>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            loss: Loss::Mse,
            sgd: SgdOptions::default(),
            schedule: None,
            shuffle: true,
            seed: 0,
            drop_last: false,
            record_steps: false,
            threads: None,
        }
    }
}

/// The summary of one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean of the epoch's batch losses, weighted by batch size.
    pub loss: f64,
    /// Mean loss over the validation set, when one is given.
    pub val_loss: Option<f64>,
    /// Validation accuracy in `[0, 1]` for the classification losses, when
    /// a validation set is given.
    pub val_accuracy: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Momentum of the epoch's last step.
    pub momentum: f64,
    /// Wall-clock seconds of the epoch's training and validation.
    pub seconds: f64,
    /// Training rows processed per second of `seconds`.
    pub samples_per_second: f64,
}

/// Per-step values, one entry per optimizer step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepRecords {
    /// Learning rate of each step.
    pub lr: Vec<f64>,
    /// Momentum of each step.
    pub momentum: Vec<f64>,
    /// Batch loss of each step, computed before the update.
    pub loss: Vec<f64>,
}

/// The record of a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// Per-step values, when [`FitOptions::record_steps`] is set.
    pub steps: Option<StepRecords>,
    /// Optimizer steps taken: `epochs * steps_per_epoch`.
    pub total_steps: usize,
    /// Wall-clock seconds of all epochs, callbacks excluded.
    pub seconds: f64,
    /// Training rows processed per second of `seconds`.
    pub samples_per_second: f64,
}

/// A validation set: inputs of shape `[rows, inputs]` and their targets.
pub type Validation<'a> = (ArrayView2<'a, f32>, Targets<'a>);

/// Trains `model` in place on the samples in the rows of `x`, of shape
/// `[rows, inputs]`, and returns the history.
///
/// `x` and the targets are read in place, whatever their layout: each
/// batch's rows are copied from them into the model's workspace, so no copy
/// of the data set is made. The validation set is read as
/// [`Mlp::evaluate`] reads it.
///
/// Every argument is checked before the first step, and errors name the
/// offending value and the fix. `on_epoch` is called on the calling thread
/// after each epoch. `cancel` is read before each batch; once it is set the
/// run returns [`Error::Aborted`]. A batch whose loss is NaN or infinite
/// stops the run with [`Error::NonFinite`] before its update. After an
/// error, the model keeps the weights of the last completed step.
///
/// NOTE: the divergence message matches the TypeScript engine's word for
/// word, so it states that the model keeps its weights from before fit.
/// That holds for the Node binding, which trains a copy, but not for a
/// direct caller of this function.
///
/// The matrix products run on a rayon pool of [`FitOptions::threads`]
/// threads, or on the calling thread when that is 1 or the model is too
/// small to split. The result does not depend on the thread count: the same
/// options give the same weights bit for bit.
pub fn fit(
    model: &mut Mlp,
    x: ArrayView2<'_, f32>,
    targets: Targets<'_>,
    validation: Option<Validation<'_>>,
    options: &FitOptions,
    on_epoch: &mut dyn FnMut(&EpochRecord),
    cancel: &AtomicBool,
) -> Result<History> {
    let rows = x.nrows();
    let data = Data { x, rows, targets };
    validate_run(model, &data, validation.as_ref(), options)?;
    let steps_per_epoch = steps_per_epoch(rows, options)?;
    let total_steps = options.epochs.checked_mul(steps_per_epoch).ok_or_else(|| {
        Error::InvalidOption(format!(
            "epochs = {} × {steps_per_epoch} steps per epoch overflows: lower epochs",
            options.epochs
        ))
    })?;
    let schedule = build_schedule(options, steps_per_epoch, total_steps)?;
    validate_nesterov(
        &options.sgd,
        schedule.as_ref().map(|(schedule, _)| schedule),
    )?;
    let serial = options.threads == Some(1) || !worth_threads(model, options.batch_size.min(rows));
    let pool = if serial {
        None
    } else {
        Some(build_pool(options.threads)?)
    };

    let mut run = Run::new(model, options, schedule, steps_per_epoch, total_steps, rows)?;
    let mut epochs = Vec::new();
    for epoch in 1..=options.epochs {
        let train_epoch = || run.epoch(model, &data, validation.as_ref(), epoch, cancel);
        let record = match &pool {
            Some(pool) => pool.install(train_epoch)?,
            None => gemm::run_serial(train_epoch)?,
        };
        on_epoch(&record);
        epochs.push(record);
    }

    let seconds: f64 = epochs.iter().map(|record| record.seconds).sum();
    let samples = run.samples_per_epoch * options.epochs;
    Ok(History {
        epochs,
        steps: run.steps,
        total_steps,
        seconds,
        samples_per_second: samples as f64 / seconds,
    })
}

/// The training set.
#[derive(Clone, Copy)]
struct Data<'x, 'y> {
    x: ArrayView2<'x, f32>,
    rows: usize,
    targets: Targets<'y>,
}

fn validate_run(
    model: &Mlp,
    data: &Data<'_, '_>,
    validation: Option<&Validation<'_>>,
    options: &FitOptions,
) -> Result<()> {
    if options.epochs == 0 {
        return Err(Error::InvalidOption(
            "epochs must be at least 1, got 0".into(),
        ));
    }
    if options.batch_size == 0 {
        return Err(Error::InvalidOption(
            "batch_size must be at least 1, got 0".into(),
        ));
    }
    if let Some(threads) = options.threads {
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(Error::InvalidOption(format!(
                "threads must be in 1..={MAX_THREADS}, got {threads}: leave it unset for \
                 rayon's default of one thread per logical CPU"
            )));
        }
    }
    options.sgd.validate_values()?;
    if data.rows == 0 {
        return Err(Error::Shape(
            "x has 0 rows: pass at least one training sample".into(),
        ));
    }
    if u32::try_from(data.rows).is_err() {
        return Err(Error::Shape(format!(
            "x has {} rows, more than the 4294967295 that shuffling supports",
            data.rows
        )));
    }
    validate_batch_buffers(model, data.rows, options.batch_size)?;
    validate_inputs(data.x, model.inputs(), "x")?;
    data.targets
        .validate(options.loss, data.rows, model.outputs(), "y")?;
    if let Some(&(x, targets)) = validation {
        if x.nrows() == 0 {
            return Err(Error::Shape(
                "validation x has 0 rows: pass at least one sample or no validation set".into(),
            ));
        }
        validate_inputs(x, model.inputs(), "validation x")?;
        targets.validate(options.loss, x.nrows(), model.outputs(), "validation y")?;
    }
    Ok(())
}

/// Checks that each batch buffer of the workspace, `min(batch_size, rows)`
/// rows of the widest layer, stays within [`MAX_LAYER_PARAMETERS`] values.
fn validate_batch_buffers(model: &Mlp, rows: usize, batch_size: usize) -> Result<()> {
    let batch = batch_size.min(rows);
    let widest = model.sizes().iter().copied().max().unwrap_or(1);
    let values = batch.checked_mul(widest);
    if values.is_some_and(|count| count <= MAX_LAYER_PARAMETERS) {
        return Ok(());
    }
    let count = values.map_or_else(|| "more than usize::MAX".to_string(), |n| n.to_string());
    Err(Error::InvalidOption(format!(
        "batch_size {batch_size} with {rows} rows needs batch buffers of {batch} rows × \
         {widest} units (the widest layer) = {count} values, more than the cap of \
         {MAX_LAYER_PARAMETERS} (MAX_LAYER_PARAMETERS): lower batch_size to at most {}",
        MAX_LAYER_PARAMETERS / widest
    )))
}

/// Applies PyTorch's rule that Nesterov momentum needs a momentum and zero
/// dampening to the momentum that the run uses: the schedule's when it
/// cycles momentum, else `sgd.momentum`. The run reads group 0 of the
/// schedule, whose momentum stays between its `base_momentum` and
/// `max_momentum`.
fn validate_nesterov(sgd: &SgdOptions, schedule: Option<&OneCycleLR>) -> Result<()> {
    if !sgd.nesterov {
        return Ok(());
    }
    let cycling = schedule.filter(|schedule| schedule.options().cycle_momentum);
    let (lowest_momentum, source) = match cycling {
        Some(schedule) => {
            let options = schedule.options();
            let (base, max) = (options.base_momentum[0], options.max_momentum[0]);
            (
                base.min(max),
                format!("the schedule's momentum, which cycles between base_momentum = {base} and max_momentum = {max}"),
            )
        }
        None => (sgd.momentum, format!("momentum = {}", sgd.momentum)),
    };
    if lowest_momentum > 0.0 && sgd.dampening == 0.0 {
        return Ok(());
    }
    Err(Error::InvalidOption(format!(
        "Nesterov momentum requires a momentum and zero dampening, but got {source} and \
         dampening = {}: set the momentum > 0 and dampening = 0, or nesterov = false",
        sgd.dampening
    )))
}

fn steps_per_epoch(rows: usize, options: &FitOptions) -> Result<usize> {
    let batch = options.batch_size;
    if !options.drop_last {
        return Ok(rows.div_ceil(batch));
    }
    if rows < batch {
        return Err(Error::InvalidOption(format!(
            "drop_last with batch_size {batch} and {rows} rows leaves no full batch: \
             lower batch_size to at most {rows} or set drop_last to false"
        )));
    }
    Ok(rows / batch)
}

/// Builds the schedule and the index of its step for the run's first batch.
fn build_schedule(
    options: &FitOptions,
    steps_per_epoch: usize,
    total_steps: usize,
) -> Result<Option<(OneCycleLR, usize)>> {
    let Some(schedule_options) = &options.schedule else {
        return Ok(None);
    };
    let mut resolved = schedule_options.clone();
    let sized = resolved.total_steps.is_some()
        || resolved.epochs.is_some()
        || resolved.steps_per_epoch.is_some();
    if !sized {
        resolved.total_steps = Some(total_steps);
    }
    resolved.groups = resolved.groups.or(Some(1));
    let schedule = OneCycleLR::new(&resolved)?;
    let start = schedule.last_epoch();
    if start + total_steps > schedule.total_steps() {
        return Err(Error::InvalidOption(format!(
            "the schedule has total_steps = {} but this run takes {total_steps} steps \
             ({} epochs × {steps_per_epoch} steps per epoch) from step {start}: raise \
             total_steps to at least {}, or leave total_steps, epochs and steps_per_epoch \
             unset to match the run",
            schedule.total_steps(),
            options.epochs,
            start + total_steps
        )));
    }
    Ok(Some((schedule, start)))
}

/// Returns whether a training step of `model` on batches of `batch` rows has enough
/// multiply-adds for its products to be split over threads. Runs below that
/// stay on the calling thread, which saves two thread switches per epoch.
/// The choice never changes a result, since results do not depend on the
/// thread count.
fn worth_threads(model: &Mlp, batch: usize) -> bool {
    let per_row: usize = model.sizes().windows(2).map(|pair| pair[0] * pair[1]).sum();
    batch.saturating_mul(per_row) >= 2 * PARALLEL_MIN_WORK
}

fn build_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|error| {
            Error::InvalidOption(format!(
                "could not start {} training threads: {error}",
                threads.map_or_else(|| "the default number of".to_string(), |n| n.to_string())
            ))
        })
}

/// The state of a run between steps.
struct Run {
    loss: Loss,
    batch_size: usize,
    shuffle: bool,
    steps_per_epoch: usize,
    samples_per_epoch: usize,
    sgd: Sgd,
    schedule: Option<(OneCycleLR, usize)>,
    order: Vec<usize>,
    rng: Rng,
    workspace: Workspace,
    batch_classes: Vec<i32>,
    batch_values: Vec<f32>,
    step: usize,
    steps: Option<StepRecords>,
}

impl Run {
    fn new(
        model: &Mlp,
        options: &FitOptions,
        schedule: Option<(OneCycleLR, usize)>,
        steps_per_epoch: usize,
        total_steps: usize,
        rows: usize,
    ) -> Result<Self> {
        let tensor_sizes: Vec<usize> = model
            .weights()
            .iter()
            .flat_map(|layer| [layer.weight.len(), layer.bias.len()])
            .collect();
        let batch = options.batch_size.min(rows);
        // Reserving every step up front keeps the steps free of allocation,
        // up to a bound that keeps absurd runs from failing at the start.
        let capacity = total_steps.min(1 << 20);
        let record = || StepRecords {
            lr: Vec::with_capacity(capacity),
            momentum: Vec::with_capacity(capacity),
            loss: Vec::with_capacity(capacity),
        };
        Ok(Run {
            loss: options.loss,
            batch_size: options.batch_size,
            shuffle: options.shuffle,
            steps_per_epoch,
            samples_per_epoch: (steps_per_epoch * options.batch_size).min(rows),
            sgd: Sgd::from_validated(options.sgd, &tensor_sizes),
            schedule,
            order: (0..rows).collect(),
            rng: Rng::new(options.seed),
            workspace: model.workspace(batch),
            batch_classes: Vec::with_capacity(batch),
            batch_values: Vec::with_capacity(batch * model.outputs()),
            step: 0,
            steps: options.record_steps.then(record),
        })
    }

    /// Runs one epoch and its validation.
    fn epoch(
        &mut self,
        model: &mut Mlp,
        data: &Data<'_, '_>,
        validation: Option<&Validation<'_>>,
        epoch: usize,
        cancel: &AtomicBool,
    ) -> Result<EpochRecord> {
        let start = Instant::now();
        if self.shuffle {
            self.rng.shuffle(&mut self.order);
        }
        let (mut loss_sum, mut samples) = (0.0, 0);
        let (mut lr, mut momentum) = (0.0, 0.0);
        for batch in 0..self.steps_per_epoch {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Aborted);
            }
            let first = batch * self.batch_size;
            let last = (first + self.batch_size).min(data.rows);
            let loss;
            (loss, lr, momentum) = self.train_batch(model, data, first..last, epoch, batch)?;
            loss_sum += loss * (last - first) as f64;
            samples += last - first;
        }
        let (val_loss, val_accuracy) = match validation {
            Some(&(x, targets)) => {
                let (loss, accuracy) = model.evaluate(x, targets, self.loss)?;
                (Some(loss), accuracy)
            }
            None => (None, None),
        };
        let seconds = start.elapsed().as_secs_f64();
        Ok(EpochRecord {
            epoch,
            loss: loss_sum / samples as f64,
            val_loss,
            val_accuracy,
            lr,
            momentum,
            seconds,
            samples_per_second: samples as f64 / seconds,
        })
    }

    /// Trains on the rows at `order[range]` and returns the batch loss with
    /// the step's learning rate and momentum.
    fn train_batch(
        &mut self,
        model: &mut Mlp,
        data: &Data<'_, '_>,
        range: std::ops::Range<usize>,
        epoch: usize,
        batch: usize,
    ) -> Result<(f64, f64, f64)> {
        let rows = range.len();
        let (lr, momentum) = self.hyperparameters();
        self.gather(model, data, range);
        let outputs = model.outputs();
        let targets = match data.targets {
            Targets::Classes(_) => Targets::Classes(ArrayView1::from(&self.batch_classes)),
            Targets::Values(_) => Targets::Values(
                ArrayView2::from_shape((rows, outputs), &self.batch_values)
                    .expect("gather fills rows × outputs values"),
            ),
        };
        let loss = model.forward_backward(&mut self.workspace, rows, self.loss, targets);
        if !loss.is_finite() {
            return Err(self.divergence_error(loss, epoch, batch, lr));
        }
        self.apply_gradients(model, lr, momentum);
        if let Some(steps) = &mut self.steps {
            steps.lr.push(lr);
            steps.momentum.push(momentum);
            steps.loss.push(loss);
        }
        self.step += 1;
        Ok((loss, lr, momentum))
    }

    /// Returns the error of a batch whose loss is NaN or infinite, worded as
    /// the TypeScript engine words it: `step` counts from 1 within the epoch
    /// and the option to lower is named as in the TypeScript options.
    fn divergence_error(&self, loss: f64, epoch: usize, batch: usize, lr: f64) -> Error {
        let option = if self.schedule.is_some() {
            "schedule.maxLr"
        } else {
            "optimizer.lr"
        };
        Error::NonFinite(format!(
            "Training diverged: the loss is {} at epoch {epoch}, step {} of {}, with learning \
             rate {}. Lower {option} and train again; the model keeps its weights from before fit.",
            js_number(loss),
            batch + 1,
            self.steps_per_epoch,
            js_number(lr)
        ))
    }

    /// Copies the rows of `order[range]` into the workspace and their
    /// targets into the batch target buffer that matches `data.targets`.
    fn gather(&mut self, model: &Mlp, data: &Data<'_, '_>, range: std::ops::Range<usize>) {
        let inputs = model.inputs();
        let indices = &self.order[range];
        let input = self.workspace.batch_input(indices.len(), inputs);
        // A standard-layout `x` is indexed as one slice, which saves building
        // a view per row.
        let (x, x_slice) = (data.x, data.x.as_slice());
        let copy_row = |(row, &index): (&mut [f32], &usize)| match x_slice {
            Some(x) => row.copy_from_slice(&x[index * inputs..(index + 1) * inputs]),
            None => copy_to_slice(x.row(index), row),
        };
        if input.len() >= PARALLEL_GATHER_MIN && gemm::available_threads() > 1 {
            input
                .par_chunks_exact_mut(inputs)
                .zip(indices)
                .for_each(copy_row);
        } else {
            input
                .chunks_exact_mut(inputs)
                .zip(indices)
                .for_each(copy_row);
        }
        match data.targets {
            Targets::Classes(classes) => {
                self.batch_classes.clear();
                let batch = indices.iter().map(|&index| classes[index]);
                self.batch_classes.extend(batch);
            }
            Targets::Values(values) => {
                self.batch_values.clear();
                let outputs = values.ncols();
                match values.as_slice() {
                    Some(all) => {
                        for &index in indices {
                            let row = &all[index * outputs..(index + 1) * outputs];
                            self.batch_values.extend_from_slice(row);
                        }
                    }
                    None => {
                        for &index in indices {
                            self.batch_values.extend(values.row(index).iter());
                        }
                    }
                }
            }
        }
    }

    /// Returns the learning rate and momentum of the current step.
    fn hyperparameters(&self) -> (f64, f64) {
        let options = self.sgd.options();
        match &self.schedule {
            Some((schedule, start)) => {
                let index = start + self.step;
                let momentum = schedule.momentum_at(index, 0).unwrap_or(options.momentum);
                (schedule.lr_at(index, 0), momentum)
            }
            None => (options.lr, options.momentum),
        }
    }

    fn apply_gradients(&mut self, model: &mut Mlp, lr: f64, momentum: f64) {
        let gradients = self.workspace.gradients();
        for (index, gradient) in gradients.iter().enumerate() {
            let (weight, bias) = model.layer_mut(index).slices_mut();
            let (weight_gradient, bias_gradient) = (gradient.weight_slice(), gradient.bias_slice());
            self.sgd
                .step(2 * index, weight, weight_gradient, lr, momentum);
            self.sgd
                .step(2 * index + 1, bias, bias_gradient, lr, momentum);
        }
    }
}

/// Formats `value` as JavaScript's `String(value)` does: `NaN`, `Infinity`
/// and `-Infinity` for the non-finite values, `0` for both zeros, and
/// exponent form (`1e+21`, `1.5e-7`) at or above 1e21 and below 1e-6 in
/// magnitude. Both languages print the shortest digits that read back to
/// the same f64.
fn js_number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        let sign = if value > 0.0 { "" } else { "-" };
        return format!("{sign}Infinity");
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let magnitude = value.abs();
    if (1e-6..1e21).contains(&magnitude) {
        return value.to_string();
    }
    let exponent_form = format!("{value:e}");
    if exponent_form.contains("e-") {
        exponent_form
    } else {
        exponent_form.replacen('e', "e+", 1)
    }
}

/// Copies `source` into `target`, as one slice copy when `source` is
/// contiguous.
fn copy_to_slice(source: ArrayView1<'_, f32>, target: &mut [f32]) {
    match source.as_slice() {
        Some(source) => target.copy_from_slice(source),
        None => {
            for (target, &value) in target.iter_mut().zip(&source) {
                *target = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn js_number_matches_javascript_string() {
        let cases = [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (0.0, "0"),
            (-0.0, "0"),
            (10.0, "10"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5, "-2.5"),
            (0.000001, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (-4e-7, "-4e-7"),
            (1e21, "1e+21"),
            (1.25e22, "1.25e+22"),
            (123456789012345680000.0, "123456789012345680000"),
        ];
        for (value, expected) in cases {
            assert_eq!(js_number(value), expected, "js_number({value:?})");
        }
    }
}
