use napi::bindgen_prelude::*;
use napi_derive::napi;
use onecycle_core::{AnnealStrategy, OneCycleLR, OneCycleOptions};

use crate::to_js_error;

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
        let inner = OneCycleLR::new(&config.to_options()?).map_err(to_js_error)?;
        Ok(NativeOneCycle { inner })
    }

    /// Advances to the next step index.
    #[napi]
    pub fn step(&mut self) -> Result<()> {
        self.inner.step().map_err(to_js_error)
    }

    /// Learning rate of each group at the current index.
    #[napi]
    pub fn last_lr(&self) -> Vec<f64> {
        self.inner.last_lr().to_vec()
    }

    /// Momentum of each group at the current index, or `null` when momentum
    /// does not cycle.
    #[napi]
    pub fn last_momentum(&self) -> Option<Vec<f64>> {
        self.inner.last_momentum().map(<[f64]>::to_vec)
    }

    /// The current step index, PyTorch's `last_epoch`.
    #[napi]
    pub fn last_epoch(&self) -> u32 {
        self.inner.last_epoch() as u32
    }

    #[napi]
    pub fn total_steps(&self) -> u32 {
        self.inner.total_steps() as u32
    }

    /// Learning rates of one group at indices `0 .. total_steps`.
    #[napi]
    pub fn lr_array(&self, group: u32) -> Float64Array {
        let group = group as usize;
        let values = (0..self.inner.total_steps())
            .map(|t| self.inner.lr_at(t, group))
            .collect::<Vec<_>>();
        Float64Array::new(values)
    }

    /// Momenta of one group at indices `0 .. total_steps`, or `null` when
    /// momentum does not cycle.
    #[napi]
    pub fn momentum_array(&self, group: u32) -> Option<Float64Array> {
        let group = group as usize;
        let values = (0..self.inner.total_steps())
            .map(|t| self.inner.momentum_at(t, group))
            .collect::<Option<Vec<_>>>()?;
        Some(Float64Array::new(values))
    }
}
