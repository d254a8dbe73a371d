//! Dense multilayer perceptrons: initialisation, inference, evaluation, and
//! the forward and backward passes of training.
//!
//! `sizes = [n_0, ..., n_L]` gives `L` linear layers; layer `l` maps
//! `n_l` inputs to `n_{l+1}` outputs. The activation follows every layer but
//! the last, whose output is the model output (the logits for the
//! classification losses).
//!
//! Data are ndarray matrices with one sample per row. The model keeps its
//! parameters and buffers in standard (row-major, contiguous) layout, so the
//! products run on plain slices.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Dimension};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::gemm::{self, LinearShape};
use crate::loss::{Loss, Targets};
use crate::rng::Rng;

/// Rows that inference and evaluation push through the network at a time,
/// which bounds their scratch memory to this many rows of the widest layer.
const INFERENCE_ROWS: usize = 512;

/// The maximum weight count of one layer, `inputs * outputs`: 2^28 weights,
/// 1 GiB of f32.
///
/// Rust aborts the process when an allocation fails, so [`Mlp::new`] rejects
/// larger layers instead of trying to allocate them, and [`crate::fit`]
/// applies the same cap to its batch buffers. NOTE: the cap applies to each
/// layer alone, so a model of many layers near the cap can still exhaust
/// memory.
pub const MAX_LAYER_PARAMETERS: usize = 1 << 28;

/// The parameters of one linear layer, laid out as PyTorch's `nn.Linear`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Weight, shape `[outputs, inputs]`.
    pub weight: Array2<f32>,
    /// Bias, shape `[outputs]`.
    pub bias: Array1<f32>,
}

impl Dense {
    /// Creates a layer of `inputs` inputs and `outputs` outputs whose
    /// parameters are all zero.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Dense {
            weight: Array2::zeros((outputs, inputs)),
            bias: Array1::zeros(outputs),
        }
    }

    /// Returns a copy in standard layout, which the model's kernels need.
    fn to_standard_layout(&self) -> Self {
        Dense {
            weight: self.weight.as_standard_layout().into_owned(),
            bias: self.bias.as_standard_layout().into_owned(),
        }
    }

    /// Returns the weight as a row-major slice.
    pub(crate) fn weight_slice(&self) -> &[f32] {
        standard_slice(&self.weight)
    }

    /// Returns the bias as a slice.
    pub(crate) fn bias_slice(&self) -> &[f32] {
        standard_slice(&self.bias)
    }

    /// Returns the weight and the bias as mutable slices.
    pub(crate) fn slices_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        let weight = self.weight.as_slice_mut().expect(STANDARD_LAYOUT);
        let bias = self.bias.as_slice_mut().expect(STANDARD_LAYOUT);
        (weight, bias)
    }
}

/// The panic message of a broken layout invariant: every array that the
/// model stores is created in, or copied to, standard layout.
const STANDARD_LAYOUT: &str = "the model keeps its arrays in standard layout";

fn standard_slice<D: Dimension>(array: &ndarray::Array<f32, D>) -> &[f32] {
    array.as_slice().expect(STANDARD_LAYOUT)
}

/// A multilayer perceptron with one activation between its linear layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    sizes: Vec<usize>,
    activation: Activation,
    layers: Vec<Dense>,
}

/// Preallocated buffers for the training passes of one model, sized for a
/// maximum batch. A training step allocates nothing.
#[derive(Debug, Clone)]
pub struct Workspace {
    max_rows: usize,
    /// The batch input, `[max_rows][n_0]`.
    input: Vec<f32>,
    /// Each layer's output after its activation (the model output for the
    /// last layer), `[max_rows][n_{l+1}]`.
    outputs: Vec<Vec<f32>>,
    /// Each hidden layer's output before its activation, kept only when the
    /// activation's derivative needs it (GELU); empty otherwise.
    pre_activations: Vec<Vec<f32>>,
    /// The loss gradient with respect to each layer's output before its
    /// activation, `[max_rows][n_{l+1}]`.
    deltas: Vec<Vec<f32>>,
    /// The loss gradient with respect to each layer's parameters.
    gradients: Vec<Dense>,
}

impl Mlp {
    /// Creates a network with weights drawn as PyTorch's `nn.Linear`
    /// default: for each layer in order, `fan_out * fan_in` weights in
    /// row-major order and then `fan_out` biases, each
    /// `f32((2 u - 1) / sqrt(fan_in))` with `u = Rng::next_f64()` from a
    /// generator seeded with `seed`.
    ///
    /// Returns [`Error::InvalidOption`] when `sizes` has fewer than two
    /// entries or a zero entry, or when a layer has more than
    /// [`MAX_LAYER_PARAMETERS`] weights.
    pub fn new(sizes: &[usize], activation: Activation, seed: u32) -> Result<Self> {
        validate_sizes(sizes)?;
        let mut rng = Rng::new(seed);
        let layers = sizes
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let bound = 1.0 / (fan_in as f64).sqrt();
                let mut draw = || ((2.0 * rng.next_f64() - 1.0) * bound) as f32;
                let weight = (0..fan_out * fan_in).map(|_| draw()).collect();
                let bias = (0..fan_out).map(|_| draw()).collect();
                Dense {
                    weight: Array2::from_shape_vec((fan_out, fan_in), weight)
                        .expect("fan_out × fan_in weights"),
                    bias: Array1::from_vec(bias),
                }
            })
            .collect();
        Ok(Mlp {
            sizes: sizes.to_vec(),
            activation,
            layers,
        })
    }

    /// Returns the layer sizes `[n_0, ..., n_L]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Returns the activation between layers.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Returns the number of input features, `n_0`.
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Returns the number of outputs, `n_L`.
    pub fn outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// Returns the number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|layer| layer.weight.len() + layer.bias.len())
            .sum()
    }

    /// Returns the parameters of every layer, first layer first.
    pub fn weights(&self) -> &[Dense] {
        &self.layers
    }

    /// Replaces the parameters of every layer, copying any array that is not
    /// in standard layout to that layout.
    ///
    /// Returns [`Error::Shape`] naming the layer and both shapes when a
    /// layer is missing or has the wrong shape, and [`Error::NonFinite`]
    /// naming the element when a value is NaN or infinite. The model is
    /// unchanged on error.
    pub fn set_weights(&mut self, layers: &[Dense]) -> Result<()> {
        if layers.len() != self.layers.len() {
            return Err(Error::Shape(format!(
                "expected weights for {} layers (sizes {:?}) but got {}",
                self.layers.len(),
                self.sizes,
                layers.len()
            )));
        }
        for (index, layer) in layers.iter().enumerate() {
            self.validate_layer(index, layer)?;
        }
        self.layers = layers.iter().map(Dense::to_standard_layout).collect();
        Ok(())
    }

    fn validate_layer(&self, index: usize, layer: &Dense) -> Result<()> {
        let (inputs, outputs) = (self.sizes[index], self.sizes[index + 1]);
        if layer.weight.dim() != (outputs, inputs) {
            let (rows, cols) = layer.weight.dim();
            return Err(Error::Shape(format!(
                "layer {index} weight has shape [{rows}, {cols}] but sizes {:?} need \
                 [{outputs}, {inputs}] (outputs × inputs)",
                self.sizes
            )));
        }
        if layer.bias.len() != outputs {
            return Err(Error::Shape(format!(
                "layer {index} bias has shape [{}] but sizes {:?} need [{outputs}]",
                layer.bias.len(),
                self.sizes
            )));
        }
        let bad_weight = layer.weight.indexed_iter().find(|(_, v)| !v.is_finite());
        if let Some(((row, col), value)) = bad_weight {
            return Err(Error::NonFinite(format!(
                "layer {index} weight[{row}][{col}] is {value}: weights must be finite"
            )));
        }
        if let Some(position) = layer.bias.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "layer {index} bias[{position}] is {}: biases must be finite",
                layer.bias[position]
            )));
        }
        Ok(())
    }

    /// Computes the model output for the samples in the rows of `x`, of
    /// shape `[rows, inputs]`, as an array of shape `[rows, outputs]`.
    ///
    /// A view in standard layout is read in place, and any other view is
    /// first copied to standard layout. Rows go through the network in
    /// chunks of up to 512. A chunk of at most
    /// [`gemm::INFERENCE_DOT_MAX_ROWS`] rows takes one dot product per
    /// output (see [`gemm::linear_forward_inference`]), so a row's output
    /// may differ in the last bits between calls with different row counts.
    ///
    /// Returns [`Error::Shape`] naming both shapes when `x` does not have
    /// `inputs` columns and [`Error::NonFinite`] naming the first NaN or
    /// infinite input.
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        validate_inputs(x, self.inputs(), "x")?;
        let rows = x.nrows();
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("a standard-layout array has a slice");
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let mut result = Array2::zeros((rows, outputs));
        let mut scratch = self.inference_scratch(rows);
        let chunks = result.axis_chunks_iter_mut(ndarray::Axis(0), INFERENCE_ROWS);
        for (start, mut out) in (0..rows).step_by(INFERENCE_ROWS).zip(chunks) {
            let count = out.nrows();
            let chunk = &x[start * inputs..(start + count) * inputs];
            let out = out
                .as_slice_mut()
                .expect("row blocks of a new array are contiguous");
            out.copy_from_slice(self.infer(chunk, count, &mut scratch));
        }
        Ok(result)
    }

    /// Returns the mean loss over the rows of `x` and, for the
    /// classification losses, the accuracy (see [`Loss::count_correct`]).
    ///
    /// `x` has shape `[rows, inputs]` and is read as [`Mlp::predict`] reads
    /// it. Returns an error naming the value when `x` or `targets` has the
    /// wrong shape or contains a NaN, an infinity or a class index out of
    /// range.
    pub fn evaluate(
        &self,
        x: ArrayView2<'_, f32>,
        targets: Targets<'_>,
        loss: Loss,
    ) -> Result<(f64, Option<f64>)> {
        validate_inputs(x, self.inputs(), "x")?;
        let rows = x.nrows();
        targets.validate(loss, rows, self.outputs(), "y")?;
        if rows == 0 {
            return Err(Error::Shape(
                "cannot evaluate on 0 rows: pass at least one sample".into(),
            ));
        }
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("a standard-layout array has a slice");
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let mut scratch = self.inference_scratch(rows);
        let (mut sum, mut correct, mut total) = (0.0, 0, 0);
        for start in (0..rows).step_by(INFERENCE_ROWS) {
            let end = (start + INFERENCE_ROWS).min(rows);
            let chunk = &x[start * inputs..end * inputs];
            let output = self.infer(chunk, end - start, &mut scratch);
            let output = matrix(output, end - start, outputs);
            let chunk_targets = targets.slice_rows(start, end);
            sum += loss.sum(output, chunk_targets);
            if let Some((right, count)) = loss.count_correct(output, chunk_targets) {
                correct += right;
                total += count;
            }
        }
        let mean = sum / loss.mean_count(rows, outputs) as f64;
        let accuracy = loss.has_accuracy().then(|| correct as f64 / total as f64);
        Ok((mean, accuracy))
    }

    /// Creates buffers for training batches of up to `max_rows` rows.
    pub fn workspace(&self, max_rows: usize) -> Workspace {
        let hidden_pre = self.activation.backward_reads_input();
        let layer_outputs = &self.sizes[1..];
        let buffers = |keep: &dyn Fn(usize) -> bool| -> Vec<Vec<f32>> {
            let sizes = layer_outputs.iter().enumerate();
            sizes
                .map(|(l, &n)| {
                    if keep(l) {
                        vec![0.0; max_rows * n]
                    } else {
                        Vec::new()
                    }
                })
                .collect()
        };
        let last = self.layers.len() - 1;
        Workspace {
            max_rows,
            input: vec![0.0; max_rows * self.inputs()],
            outputs: buffers(&|_| true),
            pre_activations: buffers(&|l| hidden_pre && l < last),
            deltas: buffers(&|_| true),
            gradients: self
                .sizes
                .windows(2)
                .map(|pair| Dense::zeros(pair[0], pair[1]))
                .collect(),
        }
    }

    /// Computes the mean loss of the batch `x`, of shape `[rows, inputs]`,
    /// and its gradient with respect to every parameter, which
    /// [`Workspace::gradients`] then returns. `x` may have any layout.
    ///
    /// Returns an error naming the value when `x` or `targets` is invalid,
    /// when `x` has 0 rows, or when it has more rows than the workspace's
    /// batch size.
    pub fn compute_gradients(
        &self,
        workspace: &mut Workspace,
        x: ArrayView2<'_, f32>,
        targets: Targets<'_>,
        loss: Loss,
    ) -> Result<f64> {
        validate_inputs(x, self.inputs(), "x")?;
        let rows = x.nrows();
        targets.validate(loss, rows, self.outputs(), "y")?;
        if rows == 0 || rows > workspace.max_rows {
            return Err(Error::Shape(format!(
                "invalid batch of {rows} rows: the workspace takes 1 to {} rows, \
                 so create a larger one with Mlp::workspace",
                workspace.max_rows
            )));
        }
        let input = workspace.batch_input(rows, self.inputs());
        matrix_mut(input, rows, self.inputs()).assign(&x);
        Ok(self.forward_backward(workspace, rows, loss, targets))
    }

    /// Runs the forward and backward passes on the first `rows` rows of the
    /// workspace's input and returns the mean loss. The caller has checked
    /// the inputs and targets.
    pub(crate) fn forward_backward(
        &self,
        ws: &mut Workspace,
        rows: usize,
        loss: Loss,
        targets: Targets<'_>,
    ) -> f64 {
        self.forward_train(ws, rows);
        let last = self.layers.len() - 1;
        let outputs = self.outputs();
        let output = matrix(&ws.outputs[last][..rows * outputs], rows, outputs);
        let delta = matrix_mut(&mut ws.deltas[last][..rows * outputs], rows, outputs);
        let value = loss.forward_backward(output, targets, delta);
        self.backward_train(ws, rows);
        value
    }

    /// Applies every layer to the batch, keeping what the backward pass
    /// needs.
    fn forward_train(&self, ws: &mut Workspace, rows: usize) {
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let shape = self.shape(l, rows);
            let (before, rest) = ws.outputs.split_at_mut(l);
            let input = match before.last() {
                Some(previous) => &previous[..rows * shape.inputs],
                None => &ws.input[..rows * shape.inputs],
            };
            let output = &mut rest[0][..rows * shape.outputs];
            let (weight, bias) = (layer.weight_slice(), layer.bias_slice());
            if l == last {
                gemm::linear_forward(shape, input, weight, bias, output);
            } else if self.activation.backward_reads_input() {
                let pre = &mut ws.pre_activations[l][..rows * shape.outputs];
                gemm::linear_forward(shape, input, weight, bias, pre);
                self.activation.forward_to(pre, output);
            } else {
                gemm::linear_forward(shape, input, weight, bias, output);
                self.activation.forward(output);
            }
        }
    }

    /// Propagates the loss gradient in `ws.deltas[last]` back through every
    /// layer, filling the parameter gradients.
    fn backward_train(&self, ws: &mut Workspace, rows: usize) {
        for l in (0..self.layers.len()).rev() {
            let shape = self.shape(l, rows);
            let (before, rest) = ws.deltas.split_at_mut(l);
            let delta = &rest[0][..rows * shape.outputs];
            let input = match l {
                0 => &ws.input[..rows * shape.inputs],
                _ => &ws.outputs[l - 1][..rows * shape.inputs],
            };
            let (weight_gradient, bias_gradient) = ws.gradients[l].slices_mut();
            gemm::linear_backward_weight(shape, delta, input, weight_gradient);
            gemm::column_sums(delta, rows, shape.outputs, bias_gradient);
            if let Some(previous) = before.last_mut() {
                let previous = &mut previous[..rows * shape.inputs];
                let weight = self.layers[l].weight_slice();
                gemm::linear_backward_input(shape, delta, weight, previous);
                let saved = if self.activation.backward_reads_input() {
                    &ws.pre_activations[l - 1][..rows * shape.inputs]
                } else {
                    input
                };
                self.activation.backward(saved, previous);
            }
        }
    }

    /// Returns mutable access to layer `index`, for the optimizer.
    pub(crate) fn layer_mut(&mut self, index: usize) -> &mut Dense {
        &mut self.layers[index]
    }

    fn shape(&self, layer: usize, rows: usize) -> LinearShape {
        LinearShape {
            rows,
            inputs: self.sizes[layer],
            outputs: self.sizes[layer + 1],
        }
    }

    /// Two buffers wide enough for any hidden layer of an inference chunk.
    fn inference_scratch(&self, rows: usize) -> [Vec<f32>; 2] {
        let widest = self.sizes[1..].iter().copied().max().unwrap_or(0);
        let len = rows.min(INFERENCE_ROWS) * widest;
        [vec![0.0; len], vec![0.0; len]]
    }

    /// Applies the network to `rows` rows of the row-major `x`, alternating
    /// between the two scratch buffers, and returns the row-major output.
    fn infer<'s>(&self, x: &[f32], rows: usize, scratch: &'s mut [Vec<f32>; 2]) -> &'s [f32] {
        let last = self.layers.len() - 1;
        let [a, b] = scratch;
        let (mut current, mut next) = (a, b);
        for (l, layer) in self.layers.iter().enumerate() {
            let shape = self.shape(l, rows);
            let output = &mut next[..rows * shape.outputs];
            let input = if l == 0 {
                x
            } else {
                &current[..rows * shape.inputs]
            };
            let (weight, bias) = (layer.weight_slice(), layer.bias_slice());
            gemm::linear_forward_inference(shape, input, weight, bias, output);
            if l < last {
                self.activation.forward(output);
            }
            std::mem::swap(&mut current, &mut next);
        }
        &current[..rows * self.outputs()]
    }
}

impl Workspace {
    /// Returns the largest batch, in rows, that the workspace takes.
    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// Returns the parameter gradients of the last
    /// [`Mlp::compute_gradients`] call or training step, first layer first.
    pub fn gradients(&self) -> &[Dense] {
        &self.gradients
    }

    /// Returns the buffer that the next batch's `rows` input rows go into.
    pub(crate) fn batch_input(&mut self, rows: usize, inputs: usize) -> &mut [f32] {
        &mut self.input[..rows * inputs]
    }
}

fn validate_sizes(sizes: &[usize]) -> Result<()> {
    if sizes.len() < 2 {
        return Err(Error::InvalidOption(format!(
            "sizes {sizes:?} must list at least an input size and an output size, such as [4, 1]"
        )));
    }
    if let Some(index) = sizes.iter().position(|&n| n == 0) {
        return Err(Error::InvalidOption(format!(
            "sizes[{index}] is 0 in {sizes:?}: every layer needs at least one unit"
        )));
    }
    for (index, pair) in sizes.windows(2).enumerate() {
        let (inputs, outputs) = (pair[0], pair[1]);
        let weights = inputs.checked_mul(outputs);
        if weights.is_none_or(|count| count > MAX_LAYER_PARAMETERS) {
            let count =
                weights.map_or_else(|| "more than usize::MAX".to_string(), |n| n.to_string());
            return Err(Error::InvalidOption(format!(
                "layer {index} of sizes {sizes:?} has shape [{outputs}, {inputs}] \
                 (outputs × inputs), which is {count} weights, more than the cap of \
                 {MAX_LAYER_PARAMETERS} (MAX_LAYER_PARAMETERS): use narrower layers"
            )));
        }
    }
    Ok(())
}

/// Checks that `x` has `inputs` columns and only finite values.
pub(crate) fn validate_inputs(x: ArrayView2<'_, f32>, inputs: usize, name: &str) -> Result<()> {
    let (rows, cols) = x.dim();
    if cols != inputs {
        return Err(Error::Shape(format!(
            "{name} has shape [{rows}, {cols}] but the model has {inputs} inputs, \
             so it needs shape [{rows}, {inputs}]"
        )));
    }
    // Both searches visit the elements in row-major order.
    let first_non_finite = match x.as_slice() {
        Some(values) => values.iter().position(|v| !v.is_finite()),
        None => x.iter().position(|v| !v.is_finite()),
    };
    if let Some(position) = first_non_finite {
        let (row, col) = (position / inputs, position % inputs);
        return Err(Error::NonFinite(format!(
            "{name}[{row}][{col}] is {}: remove or replace non-finite inputs",
            x[(row, col)]
        )));
    }
    Ok(())
}

/// Views the row-major `data` as a `[rows, cols]` matrix.
fn matrix(data: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), data).expect("buffer length is rows × cols")
}

/// Views the row-major `data` as a mutable `[rows, cols]` matrix.
fn matrix_mut(data: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), data).expect("buffer length is rows × cols")
}
