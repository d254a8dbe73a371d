//! The 1cycle learning-rate schedule, computed as PyTorch's
//! `torch.optim.lr_scheduler.OneCycleLR` computes it.
//!
//! The arithmetic follows PyTorch 1.13 and 2.x operation by operation in
//! `f64`, so the learning rates and momenta match PyTorch's to rounding. The
//! deviations from PyTorch are listed on [`OneCycleLR`].

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The curve that moves a value from a phase's start to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnnealStrategy {
    /// Cosine annealing: `end + (start - end) / 2 * (cos(pi * pct) + 1)`.
    #[default]
    Cos,
    /// Linear annealing: `(end - start) * pct + start`.
    Linear,
}

impl AnnealStrategy {
    /// Returns PyTorch's name for the strategy: `"cos"` or `"linear"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnealStrategy::Cos => "cos",
            AnnealStrategy::Linear => "linear",
        }
    }

    /// Interpolates from `start` to `end` as `pct` goes from 0 to 1, with
    /// PyTorch's operation order.
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

impl fmt::Display for AnnealStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnnealStrategy {
    type Err = Error;

    /// Parses PyTorch's names `"cos"` and `"linear"`, and returns
    /// [`Error::InvalidOption`] naming the value for anything else.
    fn from_str(value: &str) -> Result<Self> {
        match value {
            "cos" => Ok(AnnealStrategy::Cos),
            "linear" => Ok(AnnealStrategy::Linear),
            other => Err(Error::InvalidOption(format!(
                "invalid anneal_strategy: expected 'cos' or 'linear', but got '{other}'"
            ))),
        }
    }
}

/// Options of a [`OneCycleLR`] schedule, named and defaulted as PyTorch's
/// `OneCycleLR` arguments.
///
/// Per-group lists (`max_lr`, `base_momentum`, `max_momentum`) take either
/// one value, which applies to every group, or one value per group.
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleOptions {
    /// Peak learning rate: one value for all groups or one per group. An
    /// empty list is invalid.
    pub max_lr: Vec<f64>,
    /// Number of optimizer steps in the cycle. It takes precedence over
    /// `epochs * steps_per_epoch` when both are set.
    pub total_steps: Option<usize>,
    /// Number of epochs. With `steps_per_epoch`, it sets `total_steps`.
    pub epochs: Option<usize>,
    /// Number of optimizer steps per epoch. With `epochs`, it sets
    /// `total_steps`.
    pub steps_per_epoch: Option<usize>,
    /// Fraction of the cycle, in `[0, 1]`, spent raising the learning rate.
    /// Default 0.3.
    pub pct_start: f64,
    /// Annealing curve of every phase. Default [`AnnealStrategy::Cos`].
    pub anneal_strategy: AnnealStrategy,
    /// Whether momentum cycles inversely to the learning rate. Default true.
    pub cycle_momentum: bool,
    /// Momentum at the peak learning rate. Default `[0.85]`.
    pub base_momentum: Vec<f64>,
    /// Momentum at the start and end of the cycle. Default `[0.95]`.
    pub max_momentum: Vec<f64>,
    /// Initial learning rate is `max_lr / div_factor`. Default 25.
    pub div_factor: f64,
    /// Final learning rate is `initial_lr / final_div_factor`. Default 1e4.
    pub final_div_factor: f64,
    /// Whether a third phase anneals from `initial_lr` to the final
    /// learning rate after a symmetric rise and fall. Default false.
    pub three_phase: bool,
    /// Index of the last finished step, for resuming: -1 starts a new cycle,
    /// `k - 1` resumes after `k` finished steps. Default -1.
    pub last_epoch: i64,
    /// Number of optimizer parameter groups. Default: `max_lr.len()`.
    pub groups: Option<usize>,
}

impl Default for OneCycleOptions {
    /// Returns PyTorch's defaults with an empty `max_lr` and no schedule
    /// length, which [`OneCycleLR::new`] rejects until they are set.
    fn default() -> Self {
        OneCycleOptions {
            max_lr: Vec::new(),
            total_steps: None,
            epochs: None,
            steps_per_epoch: None,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: vec![0.85],
            max_momentum: vec![0.95],
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            last_epoch: -1,
            groups: None,
        }
    }
}

impl OneCycleOptions {
    /// Creates options for one parameter group with PyTorch's defaults.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycleOptions {
            max_lr: vec![max_lr],
            total_steps: Some(total_steps),
            ..OneCycleOptions::default()
        }
    }
}

/// A snapshot of a [`OneCycleLR`] from which [`OneCycleLR::from_state`]
/// rebuilds it, like PyTorch's `state_dict()`.
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleState {
    /// Resolved options: `total_steps` set and per-group lists expanded.
    pub options: OneCycleOptions,
    /// Current step index, as returned by [`OneCycleLR::last_epoch`].
    pub last_epoch: usize,
}

/// Learning-rate bound that a phase starts or ends at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum LrPoint {
    Initial,
    Max,
    Min,
}

/// Momentum bound that a phase starts or ends at.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MomentumPoint {
    Base,
    Max,
}

/// One phase of the cycle, ending at the fractional step `end_step`.
#[derive(Debug, Clone, PartialEq)]
struct Phase {
    end_step: f64,
    start_lr: LrPoint,
    end_lr: LrPoint,
    start_momentum: MomentumPoint,
    end_momentum: MomentumPoint,
}

/// Learning-rate and momentum bounds of one parameter group.
#[derive(Debug, Clone, PartialEq)]
struct GroupBounds {
    initial_lr: f64,
    max_lr: f64,
    min_lr: f64,
    base_momentum: f64,
    max_momentum: f64,
}

impl GroupBounds {
    fn lr(&self, point: LrPoint) -> f64 {
        match point {
            LrPoint::Initial => self.initial_lr,
            LrPoint::Max => self.max_lr,
            LrPoint::Min => self.min_lr,
        }
    }

    fn momentum(&self, point: MomentumPoint) -> f64 {
        match point {
            MomentumPoint::Base => self.base_momentum,
            MomentumPoint::Max => self.max_momentum,
        }
    }
}

/// PyTorch's `OneCycleLR` learning-rate and momentum schedule for one or
/// more parameter groups.
///
/// The step index `t` is PyTorch's `last_epoch`. Construction sets `t` to
/// `options.last_epoch + 1` (0 for a new cycle) and each [`step`] call adds
/// one. Batch `b` of a run of `total_steps` batches trains with the values
/// at index `b`. For `t` in `0..total_steps` the values equal PyTorch's.
///
/// Deviations from PyTorch:
/// - Zero-width phase: where the chosen phase has `end_step == start_step`,
///   PyTorch raises `ZeroDivisionError`. It does so at construction when
///   `pct_start * total_steps == 1`, and on the last `step()` call when, for
///   example, `pct_start == 1`. Here `pct = 1`, so the step gets the phase's
///   end value, the value every other phase reaches at its `end_step`.
/// - Past the end: `step` may be called `total_steps` times. The value at
///   index `total_steps` is the value at `total_steps - 1`, where PyTorch
///   extrapolates past the cycle. A further call returns
///   [`Error::StepPastEnd`] and changes nothing, where PyTorch raises only
///   after updating `last_epoch`.
/// - Resuming: `last_epoch >= 0` needs no optimizer state, where PyTorch
///   raises `KeyError` unless the optimizer groups contain `initial_lr`,
///   `max_lr` and `min_lr` from an earlier run.
/// - Validation: non-finite values anywhere, `max_lr < 0`, negative
///   momenta, `div_factor <= 0`, `final_div_factor <= 0`, `groups == 0`,
///   `last_epoch < -1`, `last_epoch >= total_steps`, and `epochs` or
///   `steps_per_epoch` alone are rejected with [`Error::InvalidOption`].
///   PyTorch accepts most of these, or fails with `ZeroDivisionError` or
///   `TypeError`. The momentum lists are validated even when
///   `cycle_momentum` is false, where PyTorch ignores them.
/// - One-element lists: a per-group list with one value applies to every
///   group. PyTorch broadcasts only a scalar and rejects a one-element list
///   when there are several groups.
/// - Types: `total_steps`, `epochs` and `steps_per_epoch` are integers and
///   `pct_start` is a float, so PyTorch's type checks (which reject
///   `total_steps=10.0` and `pct_start=0`) do not apply.
///
/// [`step`]: OneCycleLR::step
#[derive(Debug, Clone, PartialEq)]
pub struct OneCycleLR {
    options: OneCycleOptions,
    total_steps: usize,
    phases: Vec<Phase>,
    bounds: Vec<GroupBounds>,
    initial_lr: Vec<f64>,
    min_lr: Vec<f64>,
    index: usize,
    lr: Vec<f64>,
    momentum: Option<Vec<f64>>,
}

impl OneCycleLR {
    /// Validates `options` and creates the schedule at index
    /// `options.last_epoch + 1`.
    ///
    /// Returns [`Error::InvalidOption`] naming the option, its value and the
    /// valid range when an option is out of range or inconsistent.
    pub fn new(options: &OneCycleOptions) -> Result<Self> {
        let total_steps = resolve_total_steps(options)?;
        validate_pct_start(options.pct_start)?;
        validate_factor("div_factor", options.div_factor)?;
        validate_factor("final_div_factor", options.final_div_factor)?;
        let groups = resolve_groups(options)?;
        let max_lr = expand_per_group("max_lr", &options.max_lr, groups)?;
        let base_momentum = expand_per_group("base_momentum", &options.base_momentum, groups)?;
        let max_momentum = expand_per_group("max_momentum", &options.max_momentum, groups)?;
        let bounds = group_bounds(options, &max_lr, &base_momentum, &max_momentum)?;
        let index = resolve_start_index(options.last_epoch, total_steps)?;

        let resolved = OneCycleOptions {
            max_lr,
            total_steps: Some(total_steps),
            base_momentum,
            max_momentum,
            groups: Some(groups),
            ..options.clone()
        };
        let mut schedule = OneCycleLR {
            phases: build_phases(options.pct_start, total_steps, options.three_phase),
            initial_lr: bounds.iter().map(|b| b.initial_lr).collect(),
            min_lr: bounds.iter().map(|b| b.min_lr).collect(),
            bounds,
            options: resolved,
            total_steps,
            index,
            lr: Vec::new(),
            momentum: None,
        };
        schedule.update_current_values();
        Ok(schedule)
    }

    /// Rebuilds a schedule from [`OneCycleLR::state`], like PyTorch's
    /// `load_state_dict`: the result is at index `state.last_epoch` with
    /// the saved options.
    pub fn from_state(state: &OneCycleState) -> Result<Self> {
        let Ok(index) = i64::try_from(state.last_epoch) else {
            return Err(Error::InvalidOption(format!(
                "invalid last_epoch in the saved state: {} does not fit in an i64",
                state.last_epoch
            )));
        };
        let options = OneCycleOptions {
            last_epoch: index - 1,
            ..state.options.clone()
        };
        OneCycleLR::new(&options)
    }

    /// Advances the schedule by one step and updates the current values.
    ///
    /// The first `total_steps` calls succeed, and the last of them lands on
    /// index `total_steps`, whose value is the final value. A further call
    /// returns [`Error::StepPastEnd`] and leaves the schedule unchanged.
    pub fn step(&mut self) -> Result<()> {
        if self.index >= self.total_steps {
            return Err(Error::StepPastEnd(format!(
                "OneCycleLR.step() was called {} times, but total_steps is {}, so the schedule \
                 has no value for step {}. Set total_steps (or epochs * steps_per_epoch) to at \
                 least the number of optimizer steps in the run.",
                self.index + 1,
                self.total_steps,
                self.index + 1
            )));
        }
        self.index += 1;
        self.update_current_values();
        Ok(())
    }

    /// Returns each group's learning rate at the current index.
    pub fn last_lr(&self) -> &[f64] {
        &self.lr
    }

    /// Returns each group's momentum at the current index, or `None` when
    /// `cycle_momentum` is false.
    pub fn last_momentum(&self) -> Option<&[f64]> {
        self.momentum.as_deref()
    }

    /// Computes the learning rate of `group` at step `index`. Indices at or
    /// past `total_steps - 1` return the final value.
    ///
    /// # Panics
    ///
    /// Panics if `group >= self.groups()`.
    pub fn lr_at(&self, index: usize, group: usize) -> f64 {
        let bounds = self.group_bounds(group);
        let (phase, pct) = self.locate(index);
        let start = bounds.lr(phase.start_lr);
        let end = bounds.lr(phase.end_lr);
        self.options.anneal_strategy.anneal(start, end, pct)
    }

    /// Computes the momentum of `group` at step `index`, or returns `None`
    /// when `cycle_momentum` is false. Indices at or past `total_steps - 1`
    /// return the final value.
    ///
    /// # Panics
    ///
    /// Panics if `group >= self.groups()`.
    pub fn momentum_at(&self, index: usize, group: usize) -> Option<f64> {
        let bounds = self.group_bounds(group);
        if !self.options.cycle_momentum {
            return None;
        }
        let (phase, pct) = self.locate(index);
        let start = bounds.momentum(phase.start_momentum);
        let end = bounds.momentum(phase.end_momentum);
        Some(self.options.anneal_strategy.anneal(start, end, pct))
    }

    /// Returns the current step index, PyTorch's `last_epoch`: 0 after a
    /// new cycle is constructed, `total_steps` after the last valid step.
    pub fn last_epoch(&self) -> usize {
        self.index
    }

    /// Returns the number of steps in the cycle.
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }

    /// Returns the number of parameter groups.
    pub fn groups(&self) -> usize {
        self.bounds.len()
    }

    /// Returns the options with `total_steps` and `groups` set and the
    /// per-group lists expanded to one value per group. `last_epoch` is the
    /// value given at construction.
    pub fn options(&self) -> &OneCycleOptions {
        &self.options
    }

    /// Returns each group's starting learning rate, `max_lr / div_factor`.
    pub fn initial_lr(&self) -> &[f64] {
        &self.initial_lr
    }

    /// Returns each group's final learning rate,
    /// `initial_lr / final_div_factor`.
    pub fn min_lr(&self) -> &[f64] {
        &self.min_lr
    }

    /// Returns the fractional step at which each phase ends, as PyTorch
    /// computes them: `pct_start * total_steps - 1`, then for three phases
    /// `2 * pct_start * total_steps - 2`, then `total_steps - 1`.
    pub fn phase_end_steps(&self) -> Vec<f64> {
        self.phases.iter().map(|phase| phase.end_step).collect()
    }

    /// Returns a snapshot from which [`OneCycleLR::from_state`] rebuilds
    /// the schedule at the current index.
    pub fn state(&self) -> OneCycleState {
        OneCycleState {
            options: self.options.clone(),
            last_epoch: self.index,
        }
    }

    fn group_bounds(&self, group: usize) -> &GroupBounds {
        match self.bounds.get(group) {
            Some(bounds) => bounds,
            None => panic!(
                "parameter group {group} is out of range: the schedule has {} groups",
                self.bounds.len()
            ),
        }
    }

    /// Finds the phase of step `index` and the fraction of that phase
    /// completed at it, with PyTorch's rule: the first phase whose
    /// `end_step` is at or after the step, or else the last phase.
    fn locate(&self, index: usize) -> (&Phase, f64) {
        let step = index.min(self.total_steps - 1) as f64;
        let (last, leading) = self
            .phases
            .split_last()
            .expect("a schedule has at least two phases");
        let mut start_step = 0.0;
        for phase in leading {
            if step <= phase.end_step {
                return (phase, phase_fraction(step, start_step, phase.end_step));
            }
            start_step = phase.end_step;
        }
        (last, phase_fraction(step, start_step, last.end_step))
    }

    fn update_current_values(&mut self) {
        let groups = 0..self.groups();
        self.lr = groups.clone().map(|g| self.lr_at(self.index, g)).collect();
        self.momentum = groups
            .map(|g| self.momentum_at(self.index, g))
            .collect::<Option<Vec<f64>>>();
    }
}

/// Returns `(step - start_step) / (end_step - start_step)`, or 1 for a
/// zero-width phase, where PyTorch divides by zero.
fn phase_fraction(step: f64, start_step: f64, end_step: f64) -> f64 {
    let width = end_step - start_step;
    if width == 0.0 {
        1.0
    } else {
        (step - start_step) / width
    }
}

fn build_phases(pct_start: f64, total_steps: usize, three_phase: bool) -> Vec<Phase> {
    let total = total_steps as f64;
    let warmup = Phase {
        end_step: pct_start * total - 1.0,
        start_lr: LrPoint::Initial,
        end_lr: LrPoint::Max,
        start_momentum: MomentumPoint::Max,
        end_momentum: MomentumPoint::Base,
    };
    let last_step = (total_steps - 1) as f64;
    if !three_phase {
        let decay = Phase {
            end_step: last_step,
            start_lr: LrPoint::Max,
            end_lr: LrPoint::Min,
            start_momentum: MomentumPoint::Base,
            end_momentum: MomentumPoint::Max,
        };
        return vec![warmup, decay];
    }
    let fall = Phase {
        end_step: 2.0 * pct_start * total - 2.0,
        start_lr: LrPoint::Max,
        end_lr: LrPoint::Initial,
        start_momentum: MomentumPoint::Base,
        end_momentum: MomentumPoint::Max,
    };
    let annihilation = Phase {
        end_step: last_step,
        start_lr: LrPoint::Initial,
        end_lr: LrPoint::Min,
        start_momentum: MomentumPoint::Max,
        end_momentum: MomentumPoint::Max,
    };
    vec![warmup, fall, annihilation]
}

fn resolve_total_steps(options: &OneCycleOptions) -> Result<usize> {
    if let Some(total_steps) = options.total_steps {
        return validate_count("total_steps", total_steps);
    }
    match (options.epochs, options.steps_per_epoch) {
        (Some(epochs), Some(steps_per_epoch)) => {
            let epochs = validate_count("epochs", epochs)?;
            let steps_per_epoch = validate_count("steps_per_epoch", steps_per_epoch)?;
            epochs.checked_mul(steps_per_epoch).ok_or_else(|| {
                Error::InvalidOption(format!(
                    "invalid epochs * steps_per_epoch: {epochs} * {steps_per_epoch} overflows \
                     usize; set total_steps instead"
                ))
            })
        }
        (Some(epochs), None) => Err(Error::InvalidOption(format!(
            "missing steps_per_epoch: epochs = {epochs} is set, so set steps_per_epoch too, \
             or set total_steps instead"
        ))),
        (None, Some(steps_per_epoch)) => Err(Error::InvalidOption(format!(
            "missing epochs: steps_per_epoch = {steps_per_epoch} is set, so set epochs too, \
             or set total_steps instead"
        ))),
        (None, None) => Err(Error::InvalidOption(
            "missing schedule length: set either total_steps or both epochs and steps_per_epoch"
                .to_string(),
        )),
    }
}

fn validate_count(name: &str, value: usize) -> Result<usize> {
    if value == 0 {
        return Err(Error::InvalidOption(format!(
            "invalid {name}: expected a positive integer, but got 0"
        )));
    }
    Ok(value)
}

fn validate_pct_start(pct_start: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&pct_start) {
        return Err(Error::InvalidOption(format!(
            "invalid pct_start: expected a number in [0, 1], but got {pct_start}"
        )));
    }
    Ok(())
}

fn validate_factor(name: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::InvalidOption(format!(
            "invalid {name}: expected a finite number > 0, but got {value}"
        )));
    }
    Ok(())
}

fn resolve_groups(options: &OneCycleOptions) -> Result<usize> {
    match options.groups {
        Some(0) => Err(Error::InvalidOption(
            "invalid groups: expected a positive integer, but got 0".to_string(),
        )),
        Some(groups) => Ok(groups),
        None if options.max_lr.is_empty() => Err(Error::InvalidOption(
            "missing max_lr: give one value for all parameter groups or one per group".to_string(),
        )),
        None => Ok(options.max_lr.len()),
    }
}

/// Checks that every value is finite and >= 0, and returns one value per
/// group, repeating a single value.
fn expand_per_group(name: &str, values: &[f64], groups: usize) -> Result<Vec<f64>> {
    if values.len() != 1 && values.len() != groups {
        return Err(Error::InvalidOption(format!(
            "expected {groups} values for {name} (one per parameter group) or a single value, \
             but got {}",
            values.len()
        )));
    }
    for (i, &value) in values.iter().enumerate() {
        if !(value.is_finite() && value >= 0.0) {
            let label = if values.len() == 1 {
                name.to_string()
            } else {
                format!("{name}[{i}]")
            };
            return Err(Error::InvalidOption(format!(
                "invalid {label}: expected a finite number >= 0, but got {value}"
            )));
        }
    }
    if values.len() == 1 {
        Ok(vec![values[0]; groups])
    } else {
        Ok(values.to_vec())
    }
}

fn group_bounds(
    options: &OneCycleOptions,
    max_lr: &[f64],
    base_momentum: &[f64],
    max_momentum: &[f64],
) -> Result<Vec<GroupBounds>> {
    let mut bounds = Vec::with_capacity(max_lr.len());
    for (group, &max) in max_lr.iter().enumerate() {
        let initial_lr = max / options.div_factor;
        let min_lr = initial_lr / options.final_div_factor;
        if !initial_lr.is_finite() || !min_lr.is_finite() {
            return Err(Error::InvalidOption(format!(
                "invalid max_lr / div_factor / final_div_factor: group {group} gives \
                 initial_lr = {initial_lr} and min_lr = {min_lr}, which must be finite"
            )));
        }
        bounds.push(GroupBounds {
            initial_lr,
            max_lr: max,
            min_lr,
            base_momentum: base_momentum[group],
            max_momentum: max_momentum[group],
        });
    }
    Ok(bounds)
}

/// Returns the index that construction starts at, `last_epoch + 1`.
fn resolve_start_index(last_epoch: i64, total_steps: usize) -> Result<usize> {
    let index = last_epoch
        .checked_add(1)
        .and_then(|index| usize::try_from(index).ok())
        .filter(|&index| index <= total_steps);
    index.ok_or_else(|| {
        Error::InvalidOption(format!(
            "invalid last_epoch: expected an integer in [-1, {}] (total_steps - 1), but got \
             {last_epoch}",
            total_steps - 1
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares at 1e-9 relative: linear annealing computes its end value as
    /// `(end - start) * 1 + start`, which is off by rounding, in PyTorch too.
    fn assert_close(actual: f64, expected: f64) {
        let tolerance = 1e-9 * expected.abs().max(1e-300);
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected}, got {actual}"
        );
    }

    fn linear(total_steps: usize, pct_start: f64, three_phase: bool) -> OneCycleLR {
        let options = OneCycleOptions {
            pct_start,
            anneal_strategy: AnnealStrategy::Linear,
            three_phase,
            ..OneCycleOptions::new(1.0, total_steps)
        };
        OneCycleLR::new(&options).expect("valid options")
    }

    fn invalid_option_message(options: &OneCycleOptions) -> String {
        match OneCycleLR::new(options) {
            Err(Error::InvalidOption(message)) => message,
            other => panic!("expected InvalidOption, got {other:?}"),
        }
    }

    #[test]
    fn two_phase_linear_values() {
        // Phases end at steps 2 and 9. initial_lr = 1 / 25 and min_lr = 0.04 / 1e4.
        let schedule = linear(10, 0.3, false);
        assert_eq!(schedule.phase_end_steps(), vec![2.0, 9.0]);
        assert_close(schedule.lr_at(0, 0), 0.04);
        assert_close(schedule.lr_at(1, 0), 0.52);
        assert_close(schedule.lr_at(2, 0), 1.0);
        assert_close(schedule.lr_at(9, 0), 4e-6);
        assert_close(schedule.momentum_at(0, 0).unwrap(), 0.95);
        assert_close(schedule.momentum_at(1, 0).unwrap(), 0.9);
        assert_close(schedule.momentum_at(2, 0).unwrap(), 0.85);
        assert_close(schedule.momentum_at(9, 0).unwrap(), 0.95);
    }

    #[test]
    fn cos_midpoint_matches_linear() {
        // cos(pi / 2) + 1 == 1 to rounding, so the midpoint is the mean.
        let schedule = OneCycleLR::new(&OneCycleOptions::new(1.0, 10)).unwrap();
        assert_close(schedule.lr_at(1, 0), 0.52);
        assert_close(schedule.lr_at(2, 0), 1.0);
        assert_close(schedule.lr_at(9, 0), 4e-6);
    }

    #[test]
    fn three_phase_linear_values() {
        // Phases end at steps 2, 4 and 9.
        let schedule = linear(10, 0.3, true);
        assert_eq!(schedule.phase_end_steps(), vec![2.0, 4.0, 9.0]);
        assert_close(schedule.lr_at(2, 0), 1.0);
        assert_close(schedule.lr_at(3, 0), 0.52);
        assert_close(schedule.lr_at(4, 0), 0.04);
        assert_close(schedule.lr_at(9, 0), 4e-6);
        assert_close(schedule.momentum_at(4, 0).unwrap(), 0.95);
        assert_close(schedule.momentum_at(7, 0).unwrap(), 0.95);
    }

    #[test]
    fn zero_width_warmup_gives_end_value() {
        // pct_start * total_steps == 1 puts the warm-up end at step 0.
        let schedule = linear(10, 0.1, false);
        assert_close(schedule.lr_at(0, 0), 1.0);
        assert_close(schedule.momentum_at(0, 0).unwrap(), 0.85);
        assert_close(schedule.lr_at(1, 0), (4e-6 - 1.0) / 9.0 + 1.0);
    }

    #[test]
    fn pct_start_one_ends_at_max_lr() {
        let mut schedule = linear(4, 1.0, false);
        assert_close(schedule.lr_at(3, 0), 1.0);
        for _ in 0..4 {
            schedule.step().unwrap();
        }
        assert_eq!(schedule.last_lr(), &[1.0]);
    }

    #[test]
    fn final_index_repeats_last_value() {
        let mut schedule = linear(10, 0.3, false);
        for _ in 0..10 {
            schedule.step().unwrap();
        }
        assert_eq!(schedule.last_epoch(), 10);
        assert_eq!(schedule.last_lr(), &[schedule.lr_at(9, 0)]);
        assert_eq!(schedule.lr_at(25, 0), schedule.lr_at(9, 0));
    }

    #[test]
    fn step_past_end_is_rejected() {
        let mut schedule = linear(10, 0.3, false);
        for _ in 0..10 {
            schedule.step().unwrap();
        }
        let before = schedule.clone();
        let error = schedule.step().unwrap_err();
        assert_eq!(
            error,
            Error::StepPastEnd(
                "OneCycleLR.step() was called 11 times, but total_steps is 10, so the schedule \
                 has no value for step 11. Set total_steps (or epochs * steps_per_epoch) to at \
                 least the number of optimizer steps in the run."
                    .to_string()
            )
        );
        assert_eq!(schedule, before);
    }

    #[test]
    fn two_groups_broadcast_single_values() {
        let options = OneCycleOptions {
            max_lr: vec![1.0, 0.5],
            anneal_strategy: AnnealStrategy::Linear,
            ..OneCycleOptions::new(1.0, 10)
        };
        let schedule = OneCycleLR::new(&options).unwrap();
        assert_eq!(schedule.groups(), 2);
        assert_eq!(schedule.options().base_momentum, vec![0.85, 0.85]);
        assert_eq!(schedule.initial_lr(), &[0.04, 0.02]);
        assert_close(schedule.last_lr()[1], 0.02);
        assert_close(schedule.lr_at(2, 1), 0.5);
    }

    #[test]
    fn cycle_momentum_off_has_no_momentum() {
        let options = OneCycleOptions {
            cycle_momentum: false,
            ..OneCycleOptions::new(1.0, 10)
        };
        let schedule = OneCycleLR::new(&options).unwrap();
        assert_eq!(schedule.last_momentum(), None);
        assert_eq!(schedule.momentum_at(3, 0), None);
    }

    #[test]
    fn last_epoch_resumes_after_finished_steps() {
        let full = linear(10, 0.3, false);
        let options = OneCycleOptions {
            last_epoch: 4,
            ..full.options().clone()
        };
        let resumed = OneCycleLR::new(&options).unwrap();
        assert_eq!(resumed.last_epoch(), 5);
        assert_eq!(resumed.last_lr(), &[full.lr_at(5, 0)]);
    }

    #[test]
    fn last_epoch_at_end_gives_final_value() {
        let options = OneCycleOptions {
            last_epoch: 9,
            ..OneCycleOptions::new(1.0, 10)
        };
        let mut schedule = OneCycleLR::new(&options).unwrap();
        assert_eq!(schedule.last_epoch(), 10);
        assert_close(schedule.last_lr()[0], 4e-6);
        assert!(matches!(schedule.step(), Err(Error::StepPastEnd(_))));
    }

    #[test]
    fn state_round_trip() {
        let mut schedule = linear(10, 0.3, true);
        for _ in 0..6 {
            schedule.step().unwrap();
        }
        let restored = OneCycleLR::from_state(&schedule.state()).unwrap();
        assert_eq!(restored.last_epoch(), 6);
        assert_eq!(restored.last_lr(), schedule.last_lr());
        assert_eq!(restored.last_momentum(), schedule.last_momentum());
    }

    #[test]
    fn anneal_strategy_parses_pytorch_names() {
        assert_eq!("cos".parse::<AnnealStrategy>(), Ok(AnnealStrategy::Cos));
        assert_eq!(
            "linear".parse::<AnnealStrategy>(),
            Ok(AnnealStrategy::Linear)
        );
        assert_eq!(
            "cosine".parse::<AnnealStrategy>(),
            Err(Error::InvalidOption(
                "invalid anneal_strategy: expected 'cos' or 'linear', but got 'cosine'".to_string()
            ))
        );
    }

    #[test]
    fn validation_messages() {
        let base = OneCycleOptions::new(1.0, 10);
        let cases = [
            (
                OneCycleOptions {
                    pct_start: 1.5,
                    ..base.clone()
                },
                "invalid pct_start: expected a number in [0, 1], but got 1.5",
            ),
            (
                OneCycleOptions {
                    pct_start: f64::NAN,
                    ..base.clone()
                },
                "invalid pct_start: expected a number in [0, 1], but got NaN",
            ),
            (
                OneCycleOptions {
                    total_steps: Some(0),
                    ..base.clone()
                },
                "invalid total_steps: expected a positive integer, but got 0",
            ),
            (
                OneCycleOptions {
                    total_steps: None,
                    epochs: Some(3),
                    ..base.clone()
                },
                "missing steps_per_epoch: epochs = 3 is set, so set steps_per_epoch too, or set \
                 total_steps instead",
            ),
            (
                OneCycleOptions {
                    final_div_factor: 0.0,
                    ..base.clone()
                },
                "invalid final_div_factor: expected a finite number > 0, but got 0",
            ),
            (
                OneCycleOptions {
                    max_lr: vec![0.1, -0.1],
                    ..base.clone()
                },
                "invalid max_lr[1]: expected a finite number >= 0, but got -0.1",
            ),
            (
                OneCycleOptions {
                    max_lr: vec![0.1, 0.1],
                    base_momentum: vec![0.8, 0.8, 0.8],
                    ..base.clone()
                },
                "expected 2 values for base_momentum (one per parameter group) or a single \
                 value, but got 3",
            ),
            (
                OneCycleOptions {
                    groups: Some(0),
                    ..base.clone()
                },
                "invalid groups: expected a positive integer, but got 0",
            ),
            (
                OneCycleOptions {
                    last_epoch: 10,
                    ..base.clone()
                },
                "invalid last_epoch: expected an integer in [-1, 9] (total_steps - 1), but got 10",
            ),
            (
                OneCycleOptions {
                    last_epoch: -2,
                    ..base.clone()
                },
                "invalid last_epoch: expected an integer in [-1, 9] (total_steps - 1), but got -2",
            ),
            (
                OneCycleOptions::default(),
                "missing schedule length: set either total_steps or both epochs and \
                 steps_per_epoch",
            ),
            (
                OneCycleOptions {
                    max_lr: Vec::new(),
                    ..base.clone()
                },
                "missing max_lr: give one value for all parameter groups or one per group",
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(invalid_option_message(&options), expected);
        }
    }

    #[test]
    fn overflowing_initial_lr_is_rejected() {
        let options = OneCycleOptions {
            div_factor: 1e-10,
            ..OneCycleOptions::new(1e300, 10)
        };
        let message = invalid_option_message(&options);
        assert!(message.contains("initial_lr = inf"), "{message}");
    }
}
