use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use onecycle_core::ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use onecycle_core::train::{self, EpochRecord, FitOptions, History};
use onecycle_core::{Activation, Dense, Loss, Mlp, SgdOptions, Targets, MAX_THREADS};

use crate::schedule::ScheduleConfig;
use crate::{catch_panic, to_js_error};

/// One linear layer: `weight` is `[rows][cols]` row-major, i.e. `[out][in]`.
#[napi(object)]
pub struct LayerParams {
    pub weight: Float32Array,
    pub bias: Float32Array,
    pub rows: u32,
    pub cols: u32,
}

/// Validated training settings.
#[napi(object)]
pub struct FitConfig {
    pub epochs: u32,
    pub batch_size: u32,
    /// `"mse"`, `"cross_entropy"` or `"bce_with_logits"`.
    pub loss: String,
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    pub schedule: Option<ScheduleConfig>,
    pub shuffle: bool,
    pub seed: u32,
    pub drop_last: bool,
    pub record_steps: bool,
}

/// Data for one side of a run: features and either class labels or float
/// targets.
#[napi(object)]
pub struct DataSet {
    pub x: Float32Array,
    pub rows: u32,
    pub classes: Option<Int32Array>,
    pub values: Option<Float32Array>,
}

/// The summary of one epoch, as `fit` reports it.
#[napi(object)]
#[derive(Clone)]
pub struct EpochReport {
    pub epoch: u32,
    pub loss: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub lr: f64,
    pub momentum: f64,
    pub seconds: f64,
    pub samples_per_second: f64,
}

/// The result of `fit`.
#[napi(object)]
pub struct FitReport {
    pub epochs: Vec<EpochReport>,
    pub step_lr: Option<Float64Array>,
    pub step_momentum: Option<Float64Array>,
    pub step_loss: Option<Float64Array>,
    pub total_steps: u32,
    pub seconds: f64,
    pub samples_per_second: f64,
}

/// Result of `evaluate`; `accuracy` is `null` for `mse`.
#[napi(object)]
pub struct EvaluationReport {
    pub loss: f64,
    pub accuracy: Option<f64>,
}

/// A flag that stops a running `fit` at its next batch.
#[napi]
#[derive(Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    #[napi]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

type EpochCallback = ThreadsafeFunction<EpochReport, (), EpochReport, Status, false>;

/// A dense MLP in the Rust core.
#[napi]
pub struct NativeMlp {
    model: Arc<Mutex<Mlp>>,
    training: Arc<AtomicBool>,
    threads: Option<usize>,
}

/// Views the row-major `data` as a `[rows, cols]` matrix.
///
/// Returns an `InvalidArg` error naming `name` when `data` does not hold
/// exactly `rows * cols` values. ndarray accepts a longer slice and views
/// its start, so the length is checked here.
fn matrix<'a>(
    data: &'a [f32],
    rows: usize,
    cols: usize,
    name: &str,
) -> Result<ArrayView2<'a, f32>> {
    let shape_error = |detail: String| {
        Error::new(
            Status::InvalidArg,
            format!(
                "{name} has {} values but {rows} rows × {cols} columns need {detail}",
                data.len()
            ),
        )
    };
    match rows.checked_mul(cols) {
        Some(needed) if needed == data.len() => {}
        Some(needed) => return Err(shape_error(needed.to_string())),
        None => return Err(shape_error("more values than fit in memory".to_string())),
    }
    ArrayView2::from_shape((rows, cols), data)
        .map_err(|error| shape_error(format!("{} (ndarray: {error})", rows * cols)))
}

/// Returns the inputs of `data` as a `[rows, inputs]` matrix.
fn features<'a>(data: &'a DataSet, inputs: usize, name: &str) -> Result<ArrayView2<'a, f32>> {
    matrix(&data.x, data.rows as usize, inputs, name)
}

/// Returns the targets of `data`: class indices, or a `[rows, outputs]`
/// matrix of values.
fn targets<'a>(data: &'a DataSet, outputs: usize, name: &str) -> Result<Targets<'a>> {
    match (&data.classes, &data.values) {
        (Some(classes), None) => Ok(Targets::Classes(ArrayView1::from(&classes[..]))),
        (None, Some(values)) => {
            let values = matrix(values, data.rows as usize, outputs, name)?;
            Ok(Targets::Values(values))
        }
        _ => Err(Error::new(
            Status::InvalidArg,
            "give exactly one of classes or values as targets",
        )),
    }
}

/// Returns the elements of `array` in row-major order, reusing its buffer
/// when the array fills it in standard layout.
fn into_row_major(array: Array2<f32>) -> Vec<f32> {
    if !array.is_standard_layout() {
        return array.iter().copied().collect();
    }
    let len = array.len();
    let (mut values, offset) = array.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    if start != 0 || values.len() != len {
        values = values[start..start + len].to_vec();
    }
    values
}

fn lock(model: &Mutex<Mlp>) -> MutexGuard<'_, Mlp> {
    // A panic inside a core call cannot leave the weights half-written,
    // because training runs on a copy; the poisoned guard is safe to reuse.
    model.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Checks the thread count of the model's training pool.
fn check_threads(threads: Option<u32>) -> Result<()> {
    match threads {
        Some(threads) if !(1..=MAX_THREADS as u32).contains(&threads) => Err(Error::new(
            Status::InvalidArg,
            format!(
                "threads must be in 1..={MAX_THREADS}, got {threads}: leave it unset for one \
                 thread per logical CPU"
            ),
        )),
        _ => Ok(()),
    }
}

/// Rejects a change to the weights while `fit` trains a copy of them,
/// because the copy replaces the weights when `fit` finishes.
fn check_not_training(training: &AtomicBool) -> Result<()> {
    if training.load(Ordering::Acquire) {
        return Err(Error::new(
            Status::GenericFailure,
            "setWeights cannot run while fit is training this model; await fit first",
        ));
    }
    Ok(())
}

#[napi]
impl NativeMlp {
    #[napi(constructor)]
    pub fn new(
        layers: Vec<u32>,
        activation: String,
        seed: u32,
        threads: Option<u32>,
    ) -> Result<Self> {
        catch_panic("NativeMlp constructor", || {
            let activation: Activation = activation.parse().map_err(to_js_error)?;
            check_threads(threads)?;
            // The core rejects fewer than two sizes, a zero size and a layer
            // of more than MAX_LAYER_PARAMETERS weights.
            let sizes: Vec<usize> = layers.iter().map(|&n| n as usize).collect();
            let model = Mlp::new(&sizes, activation, seed).map_err(to_js_error)?;
            Ok(NativeMlp {
                model: Arc::new(Mutex::new(model)),
                training: Arc::new(AtomicBool::new(false)),
                threads: threads.map(|n| n as usize),
            })
        })
    }

    /// Runs the model on `rows` samples and returns `rows * outputs` values.
    #[napi]
    pub fn predict(&self, x: Float32Array, rows: u32) -> Result<Float32Array> {
        catch_panic("predict", || {
            let model = lock(&self.model);
            let x = matrix(&x, rows as usize, model.inputs(), "x")?;
            let output = model.predict(x).map_err(to_js_error)?;
            Ok(Float32Array::new(into_row_major(output)))
        })
    }

    #[napi]
    pub fn evaluate(&self, data: DataSet, loss: String) -> Result<EvaluationReport> {
        catch_panic("evaluate", || {
            let loss: Loss = loss.parse().map_err(to_js_error)?;
            let model = lock(&self.model);
            let x = features(&data, model.inputs(), "x")?;
            let y = targets(&data, model.outputs(), "y")?;
            let (value, accuracy) = model.evaluate(x, y, loss).map_err(to_js_error)?;
            Ok(EvaluationReport { loss: value, accuracy })
        })
    }

    #[napi]
    pub fn get_weights(&self) -> Result<Vec<LayerParams>> {
        catch_panic("getWeights", || {
            let model = lock(&self.model);
            let sizes = model.sizes();
            let layers = model
                .weights()
                .iter()
                .enumerate()
                .map(|(index, layer)| LayerParams {
                    weight: Float32Array::new(layer.weight.iter().copied().collect()),
                    bias: Float32Array::new(layer.bias.to_vec()),
                    rows: sizes[index + 1] as u32,
                    cols: sizes[index] as u32,
                })
                .collect();
            Ok(layers)
        })
    }

    /// Replaces the weights, unless `fit` is running on this model.
    #[napi]
    pub fn set_weights(&self, layers: Vec<LayerParams>) -> Result<()> {
        check_not_training(&self.training)?;
        catch_panic("setWeights", || {
            let params = layers
                .iter()
                .enumerate()
                .map(|(index, layer)| {
                    let (rows, cols) = (layer.rows as usize, layer.cols as usize);
                    let name = format!("weights[{index}].weight");
                    let weight = matrix(&layer.weight, rows, cols, &name)?.to_owned();
                    let bias = Array1::from_vec(layer.bias.to_vec());
                    Ok(Dense { weight, bias })
                })
                .collect::<Result<Vec<Dense>>>()?;
            lock(&self.model).set_weights(&params).map_err(to_js_error)
        })
    }

    /// Trains a copy of the model off the main thread and stores it when the
    /// run succeeds. The arrays are read in place, never copied.
    #[napi(ts_return_type = "Promise<FitReport>")]
    pub fn fit(
        &self,
        train: DataSet,
        config: FitConfig,
        validation: Option<DataSet>,
        #[napi(ts_arg_type = "((record: EpochReport) => void) | undefined | null")]
        on_epoch: Option<EpochCallback>,
        cancel: &CancelToken,
    ) -> Result<AsyncTask<FitTask>> {
        if self.training.swap(true, Ordering::AcqRel) {
            return Err(Error::new(
                Status::GenericFailure,
                "fit is already running on this model; await it before starting another",
            ));
        }
        let model = catch_panic("fit", || Ok(lock(&self.model).clone()));
        let model = match model {
            Ok(model) => model,
            Err(error) => {
                self.training.store(false, Ordering::Release);
                return Err(error);
            }
        };
        Ok(AsyncTask::new(FitTask {
            target: Arc::clone(&self.model),
            training: Arc::clone(&self.training),
            model,
            train,
            validation,
            config,
            threads: self.threads,
            on_epoch,
            cancel: Arc::clone(&cancel.flag),
        }))
    }
}

/// The asynchronous half of `NativeMlp.fit`.
pub struct FitTask {
    target: Arc<Mutex<Mlp>>,
    training: Arc<AtomicBool>,
    model: Mlp,
    train: DataSet,
    validation: Option<DataSet>,
    config: FitConfig,
    threads: Option<usize>,
    on_epoch: Option<EpochCallback>,
    cancel: Arc<AtomicBool>,
}

fn epoch_report(record: &EpochRecord) -> EpochReport {
    EpochReport {
        epoch: record.epoch as u32,
        loss: record.loss,
        val_loss: record.val_loss,
        val_accuracy: record.val_accuracy,
        lr: record.lr,
        momentum: record.momentum,
        seconds: record.seconds,
        samples_per_second: record.samples_per_second,
    }
}

impl FitTask {
    fn options(&self) -> Result<FitOptions> {
        let config = &self.config;
        Ok(FitOptions {
            epochs: config.epochs as usize,
            batch_size: config.batch_size as usize,
            loss: config.loss.parse().map_err(to_js_error)?,
            sgd: SgdOptions {
                lr: config.lr,
                momentum: config.momentum,
                dampening: config.dampening,
                nesterov: config.nesterov,
                weight_decay: config.weight_decay,
            },
            schedule: config
                .schedule
                .as_ref()
                .map(ScheduleConfig::to_options)
                .transpose()?,
            shuffle: config.shuffle,
            seed: config.seed,
            drop_last: config.drop_last,
            record_steps: config.record_steps,
            threads: self.threads,
        })
    }

    fn run(&mut self) -> Result<History> {
        let options = self.options()?;
        let (inputs, outputs) = (self.model.inputs(), self.model.outputs());
        let x = features(&self.train, inputs, "x")?;
        let y = targets(&self.train, outputs, "y")?;
        let validation = match &self.validation {
            Some(data) => Some((
                features(data, inputs, "validation x")?,
                targets(data, outputs, "validation y")?,
            )),
            None => None,
        };
        let on_epoch = self.on_epoch.as_ref();
        let mut notify = |record: &EpochRecord| {
            if let Some(callback) = on_epoch {
                callback.call(
                    epoch_report(record),
                    ThreadsafeFunctionCallMode::NonBlocking,
                );
            }
        };
        train::fit(
            &mut self.model,
            x,
            y,
            validation,
            &options,
            &mut notify,
            &self.cancel,
        )
        .map_err(to_js_error)
    }
}

impl Task for FitTask {
    type Output = History;
    type JsValue = FitReport;

    fn compute(&mut self) -> Result<History> {
        catch_panic("fit", || self.run())
    }

    fn resolve(&mut self, _env: Env, history: History) -> Result<FitReport> {
        std::mem::swap(&mut *lock(&self.target), &mut self.model);
        let steps = history.steps;
        Ok(FitReport {
            epochs: history.epochs.iter().map(epoch_report).collect(),
            step_lr: steps.as_ref().map(|s| Float64Array::new(s.lr.clone())),
            step_momentum: steps
                .as_ref()
                .map(|s| Float64Array::new(s.momentum.clone())),
            step_loss: steps.as_ref().map(|s| Float64Array::new(s.loss.clone())),
            total_steps: history.total_steps as u32,
            seconds: history.seconds,
            samples_per_second: history.samples_per_second,
        })
    }

    fn finally(self, _env: Env) -> Result<()> {
        self.training.store(false, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::split;

    #[test]
    fn set_weights_rejected_during_fit() {
        let training = AtomicBool::new(true);
        let (status, reason) = split(check_not_training(&training)).unwrap_err();
        assert_eq!(status, Status::GenericFailure);
        assert_eq!(
            reason,
            "setWeights cannot run while fit is training this model; await fit first"
        );
        training.store(false, Ordering::Release);
        assert_eq!(split(check_not_training(&training)), Ok(()));
    }

    #[test]
    fn threads_outside_range_rejected() {
        for threads in [0, 257, 100_000] {
            let (status, reason) = split(check_threads(Some(threads))).unwrap_err();
            assert_eq!(status, Status::InvalidArg);
            assert_eq!(
                reason,
                format!(
                    "threads must be in 1..=256, got {threads}: leave it unset for one \
                     thread per logical CPU"
                )
            );
        }
        for threads in [None, Some(1), Some(256)] {
            assert_eq!(split(check_threads(threads)), Ok(()), "{threads:?}");
        }
    }
}
