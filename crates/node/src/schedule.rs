use napi::bindgen_prelude::*;
use napi_derive::napi;
use onecycle_core::{AnnealStrategy, OneCycleLR, OneCycleOptions};

use crate::{catch_panic, to_js_error};

/// The maximum `total_steps` for which `lrArray` and `momentumArray` build
/// a whole array: 2^27 steps, 1 GiB of f64.
const MAX_ARRAY_STEPS: usize = 1 << 27;

/// Validated 1cycle settings, one entry per parameter group in each list.
#[napi(object)]
pub struct ScheduleConfig {
    pub max_lr: Vec<f64>,
    pub total_steps: u32,
    pub pct_start: f64,
    /// `"cos"` or `"linear"`.
    pub anneal_strategy: String,
    pub cycle_momentum: bool,
    pub base_momentum: Vec<f64>,
    pub max_momentum: Vec<f64>,
    pub div_factor: f64,
    pub final_div_factor: f64,
    pub three_phase: bool,
    /// PyTorch's `last_epoch`; -1 starts a new cycle.
    pub last_epoch: i64,
}

impl ScheduleConfig {
    pub(crate) fn to_options(&self) -> Result<OneCycleOptions> {
        let anneal_strategy: AnnealStrategy = self.anneal_strategy.parse().map_err(to_js_error)?;
        Ok(OneCycleOptions {
            max_lr: self.max_lr.clone(),
            total_steps: Some(self.total_steps as usize),
            epochs: None,
            steps_per_epoch: None,
            pct_start: self.pct_start,
            anneal_strategy,
            cycle_momentum: self.cycle_momentum,
            base_momentum: self.base_momentum.clone(),
            max_momentum: self.max_momentum.clone(),
            div_factor: self.div_factor,
            final_div_factor: self.final_div_factor,
            three_phase: self.three_phase,
            last_epoch: self.last_epoch,
            groups: Some(self.max_lr.len()),
        })
    }
}

/// PyTorch's `OneCycleLR`, run by the Rust core.
#[napi]
pub struct NativeOneCycle {
    inner: OneCycleLR,
}

#[napi]
impl NativeOneCycle {
    #[napi(constructor)]
    pub fn new(config: ScheduleConfig) -> Result<Self> {
        catch_panic("NativeOneCycle constructor", || {
            let inner = OneCycleLR::new(&config.to_options()?).map_err(to_js_error)?;
            Ok(NativeOneCycle { inner })
        })
    }

    /// Advances to the next step index.
    #[napi]
    pub fn step(&mut self) -> Result<()> {
        catch_panic("step", || self.inner.step().map_err(to_js_error))
    }

    /// Learning rate of each group at the current index.
    #[napi]
    pub fn last_lr(&self) -> Result<Vec<f64>> {
        catch_panic("lastLr", || Ok(self.inner.last_lr().to_vec()))
    }

    /// Momentum of each group at the current index, or `null` when momentum
    /// does not cycle.
    #[napi]
    pub fn last_momentum(&self) -> Result<Option<Vec<f64>>> {
        catch_panic("lastMomentum", || {
            Ok(self.inner.last_momentum().map(<[f64]>::to_vec))
        })
    }

    /// Returns the current step index, PyTorch's `last_epoch`.
    #[napi]
    pub fn last_epoch(&self) -> Result<u32> {
        catch_panic("lastEpoch", || Ok(self.inner.last_epoch() as u32))
    }

    #[napi]
    pub fn total_steps(&self) -> Result<u32> {
        catch_panic("totalSteps", || Ok(self.inner.total_steps() as u32))
    }

    /// Learning rates of one group at indices `0 .. total_steps`.
    #[napi]
    pub fn lr_array(&self, group: u32) -> Result<Float64Array> {
        catch_panic("lrArray", || {
            let group = check_array_request(&self.inner, "lrArray", group)?;
            let values = (0..self.inner.total_steps())
                .map(|t| self.inner.lr_at(t, group))
                .collect::<Vec<_>>();
            Ok(Float64Array::new(values))
        })
    }

    /// Momenta of one group at indices `0 .. total_steps`, or `null` when
    /// momentum does not cycle.
    #[napi]
    pub fn momentum_array(&self, group: u32) -> Result<Option<Float64Array>> {
        catch_panic("momentumArray", || {
            let group = check_array_request(&self.inner, "momentumArray", group)?;
            let values = (0..self.inner.total_steps())
                .map(|t| self.inner.momentum_at(t, group))
                .collect::<Option<Vec<_>>>();
            Ok(values.map(Float64Array::new))
        })
    }
}

/// Checks that `group` exists and that the schedule is short enough to
/// return as one array, and returns the group index.
fn check_array_request(schedule: &OneCycleLR, method: &str, group: u32) -> Result<usize> {
    let groups = schedule.groups();
    let group = group as usize;
    if group >= groups {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "{method}: group {group} does not exist, because the schedule has {groups} \
                 parameter group(s): pass a group from 0 to {}",
                groups.saturating_sub(1)
            ),
        ));
    }
    let total_steps = schedule.total_steps();
    if total_steps > MAX_ARRAY_STEPS {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "{method}: the schedule has {total_steps} steps, more than the \
                 {MAX_ARRAY_STEPS} that one array holds: step through the schedule \
                 with step() and read lastLr() and lastMomentum() instead"
            ),
        ));
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::split;

    fn schedule(total_steps: usize) -> OneCycleLR {
        OneCycleLR::new(&OneCycleOptions::new(0.1, total_steps)).unwrap()
    }

    #[test]
    fn arrays_reject_missing_group() {
        let one_group = schedule(10);
        let (status, reason) = split(check_array_request(&one_group, "lrArray", 9)).unwrap_err();
        assert_eq!(status, Status::InvalidArg);
        assert_eq!(
            reason,
            "lrArray: group 9 does not exist, because the schedule has 1 parameter group(s): \
             pass a group from 0 to 0"
        );
        let (_, reason) = split(check_array_request(&one_group, "momentumArray", 1)).unwrap_err();
        assert!(
            reason.starts_with("momentumArray: group 1 does not exist"),
            "{}",
            reason
        );
        assert_eq!(split(check_array_request(&one_group, "lrArray", 0)), Ok(0));
    }

    #[test]
    fn arrays_reject_huge_schedules() {
        let huge = schedule(MAX_ARRAY_STEPS + 1);
        let (status, reason) = split(check_array_request(&huge, "lrArray", 0)).unwrap_err();
        assert_eq!(status, Status::InvalidArg);
        assert_eq!(
            reason,
            "lrArray: the schedule has 134217729 steps, more than the 134217728 that one \
             array holds: step through the schedule with step() and read lastLr() and \
             lastMomentum() instead"
        );
        let at_cap = schedule(MAX_ARRAY_STEPS);
        assert_eq!(split(check_array_request(&at_cap, "lrArray", 0)), Ok(0));
    }
}
