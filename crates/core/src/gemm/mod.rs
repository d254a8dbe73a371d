//! The matrix products of a dense layer, on matrixmultiply's `sgemm` and
//! split over rayon threads.
//!
//! Each product is `C (m × n) = A (m × k) · B (k × n) + beta C` in f32, where
//! the operands are strided views: element `(i, j)` of a view sits at
//! `i * rs + j * cs`. A layer with weight `W [outputs][inputs]` and a batch
//! `X [rows][inputs]` needs three of them:
//!
//! - forward: `Y = X · Wᵀ + b`, so `m = rows`, `k = inputs`, `n = outputs`;
//! - input gradient: `dX = dY · W`, so `m = rows`, `k = outputs`,
//!   `n = inputs`;
//! - weight gradient: `dW = dYᵀ · X`, so `m = outputs`, `k = rows`,
//!   `n = inputs`;
//!
//! and the bias gradient `db` is the column sums of `dY`.
//!
//! Small products of layers with at most `NARROW_OUTPUTS` outputs skip
//! `sgemm`, whose packing costs more than their arithmetic: the forward pass
//! takes one dot product per output, and the backward products add scaled
//! rows (`axpy`). Which path a product takes depends on its shape alone.
//!
//! Inference ([`linear_forward_inference`]) also skips `sgemm` for batches
//! of at most `INFERENCE_DOT_MAX_ROWS` rows, whatever the layer's width,
//! because `sgemm` packs the whole weight matrix on every call. Each output
//! is then one dot product of a weight row with an input row
//! ([`linear_forward_dot`]). That path rounds differently from `sgemm`, so
//! a row's output can differ in the last bits between a small and a large
//! batch. Training always calls [`linear_forward`].
//!
//! # Threads and determinism
//!
//! A product with at least `2 * PARALLEL_MIN_WORK` multiply-adds is cut into
//! one block of C per thread of the current rayon pool, along the rows of C
//! when `m >= n` and along its columns otherwise. A row split packs all of
//! B once per block and a column split packs all of A once per block, so the
//! split duplicates the smaller of the two packing passes.
//!
//! The split never changes a result bit, because matrixmultiply (0.3.11)
//! computes each element of C on its own. It sums `a[i][p] * b[p][j]` in
//! order of `p` within blocks of `p` whose bounds depend on `k` alone. It
//! adds each block's sum to C with one rounding, the same for a full
//! micro-tile as for a partial one at the edge. The tests in `sgemm.rs` check
//! that invariance for every block count and both split directions, so a
//! matrixmultiply version that broke it would fail them.

mod kernels;
mod sgemm;
mod simd;
#[cfg(test)]
mod tests;

use std::cell::Cell;

use rayon::prelude::*;

use kernels::{
    backward_input_narrow, backward_weight_narrow, forward_narrow, DotOutputs, DOT_GROUP,
};
use sgemm::{gemm, MatRef};
pub(crate) use simd::{Simd, SimdLoop};

/// Multiply-adds below which a block of a product is not worth a thread of
/// its own: about 5 µs of work at 50 GFLOP/s.
pub const PARALLEL_MIN_WORK: usize = 1 << 18;

/// Block edges fall on multiples of 16, the micro-tile edge of the AVX-512
/// kernel, so that only the last block has partial tiles.
const BLOCK_ALIGN: usize = 16;

/// Layers with at most this many outputs use the narrow kernels instead of
/// `sgemm` when their product is small.
pub const NARROW_OUTPUTS: usize = 16;

/// Multiply-adds up to which a product of a narrow layer uses the narrow
/// kernels. The value is an estimate from timing both paths on one AVX-512
/// x86-64 CPU. There, `sgemm` was already as fast or faster at 164k
/// multiply-adds (128 rows, 128 inputs, 10 outputs).
pub const NARROW_MAX_WORK: usize = 1 << 16;

/// Rows up to which [`linear_forward_inference`] takes one dot product per
/// output rather than `sgemm`.
///
/// The value is an estimate from `small_batch_forward_paths` in
/// `tests/throughput.rs` on one 2-core AVX-512 x86-64 virtual machine. There,
/// at 8 rows, the dot path took 0.3 to 0.45 of the time of `sgemm` for
/// layers from 784 × 128 to 1024 × 1024, and about the same time for 32 × 64.
/// The break-even on other CPUs was not measured.
pub const INFERENCE_DOT_MAX_ROWS: usize = 8;

thread_local! {
    /// Whether [`run_serial`] is running on this thread.
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the calling thread with every product, update and copy of
/// the crate kept on that thread, whatever rayon pool is current.
pub(crate) fn run_serial<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the outer state, also when `f` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.set(self.0);
        }
    }
    let _restore = Restore(SERIAL.replace(true));
    f()
}

/// Returns the number of threads that the crate's parallel loops may use:
/// 1 inside [`run_serial`], else the size of the current rayon pool.
pub(crate) fn available_threads() -> usize {
    if SERIAL.get() {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// The shape of a dense layer applied to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearShape {
    /// Samples in the batch.
    pub rows: usize,
    /// Input features, the layer's `fan_in`.
    pub inputs: usize,
    /// Output features, the layer's `fan_out`.
    pub outputs: usize,
}

impl LinearShape {
    /// Returns whether the layer's products take the narrow kernels.
    fn is_narrow(self) -> bool {
        let work = self
            .rows
            .saturating_mul(self.inputs)
            .saturating_mul(self.outputs);
        self.outputs <= NARROW_OUTPUTS && work <= NARROW_MAX_WORK
    }
}

/// Computes `y = x · weightᵀ + bias`, PyTorch's `nn.Linear` forward.
///
/// `x` is `[rows][inputs]`, `weight` is `[outputs][inputs]`, `bias` is
/// `[outputs]` and `y` is `[rows][outputs]`, all row-major.
///
/// # Panics
///
/// Panics if a slice length does not match `shape`.
pub fn linear_forward(shape: LinearShape, x: &[f32], weight: &[f32], bias: &[f32], y: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    assert_eq!(bias.len(), outputs, "bias length");
    assert_eq!(y.len(), rows * outputs, "output length");
    assert_eq!(x.len(), rows * inputs, "input length");
    assert_eq!(weight.len(), outputs * inputs, "weight length");
    if outputs > 0 {
        for row in y.chunks_exact_mut(outputs) {
            row.copy_from_slice(bias);
        }
    }
    if shape.is_narrow() {
        return forward_narrow(shape, x, weight, y);
    }
    let a = MatRef::row_major(x, rows, inputs);
    let b = MatRef::row_major(weight, outputs, inputs).transposed();
    gemm(a, b, 1.0, y);
}

/// Computes `y = x · weightᵀ + bias` for inference, with the layouts of
/// [`linear_forward`].
///
/// Batches of at most [`INFERENCE_DOT_MAX_ROWS`] rows take
/// [`linear_forward_dot`] and larger ones [`linear_forward`], so the path
/// and thus the rounding depend on the shape alone.
///
/// # Panics
///
/// Panics if a slice length does not match `shape`.
pub fn linear_forward_inference(
    shape: LinearShape,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
) {
    if shape.rows <= INFERENCE_DOT_MAX_ROWS {
        linear_forward_dot(shape, x, weight, bias, y);
    } else {
        linear_forward(shape, x, weight, bias, y);
    }
}

/// Computes `y = x · weightᵀ + bias` as one dot product per element,
/// `y[r][o] = bias[o] + x[r] · weight[o]`, with the layouts of
/// [`linear_forward`].
///
/// The loop runs over groups of four weight rows and, for each group, over
/// the input rows, so each weight is read from memory once per call.
/// Products with at least `2 * PARALLEL_MIN_WORK` multiply-adds split their
/// outputs over the threads of the current rayon pool. Each dot product is
/// summed in 16 interleaved partial sums that are then added pairwise, an
/// order that depends on `inputs` alone. So neither the grouping, the split
/// nor the instruction set changes a result bit, and where
/// [`linear_forward`] takes the narrow kernels, both give the same bits.
///
/// # Panics
///
/// Panics if a slice length does not match `shape`.
pub fn linear_forward_dot(
    shape: LinearShape,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    y: &mut [f32],
) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    assert_eq!(bias.len(), outputs, "bias length");
    assert_eq!(y.len(), rows * outputs, "output length");
    assert_eq!(x.len(), rows * inputs, "input length");
    assert_eq!(weight.len(), outputs * inputs, "weight length");
    if rows == 0 || outputs == 0 {
        return;
    }
    if inputs == 0 {
        for row in y.chunks_exact_mut(outputs) {
            row.copy_from_slice(bias);
        }
        return;
    }

    let simd = Simd::detect();
    let blocks = dot_blocks(shape, available_threads());
    if blocks == 1 {
        simd.run(DotOutputs {
            x,
            weight,
            bias,
            out: y,
            inputs,
            output_stride: 1,
            row_stride: outputs,
        });
        return;
    }

    // Each block of outputs writes its own contiguous part of an
    // output-major `[outputs][rows]` buffer, which is `y` itself for a
    // single row and is otherwise transposed into `y` at the end.
    let block = outputs.div_ceil(blocks).next_multiple_of(DOT_GROUP);
    let run_blocks = |by_output: &mut [f32]| {
        by_output
            .par_chunks_mut(block * rows)
            .zip(weight.par_chunks(block * inputs))
            .zip(bias.par_chunks(block))
            .for_each(|((out, weight), bias)| {
                simd.run(DotOutputs {
                    x,
                    weight,
                    bias,
                    out,
                    inputs,
                    output_stride: rows,
                    row_stride: 1,
                });
            });
    };
    if rows == 1 {
        run_blocks(y);
        return;
    }
    let mut by_output = vec![0.0; rows * outputs];
    run_blocks(&mut by_output);
    for (o, column) in by_output.chunks_exact(rows).enumerate() {
        for (r, &value) in column.iter().enumerate() {
            y[r * outputs + o] = value;
        }
    }
}

/// Returns how many blocks of outputs [`linear_forward_dot`] splits a
/// product into: one per thread, as long as each block keeps at least
/// `PARALLEL_MIN_WORK` multiply-adds and `BLOCK_ALIGN` outputs.
fn dot_blocks(shape: LinearShape, threads: usize) -> usize {
    let work = shape
        .rows
        .saturating_mul(shape.inputs)
        .saturating_mul(shape.outputs);
    threads
        .min(work / PARALLEL_MIN_WORK)
        .min(shape.outputs / BLOCK_ALIGN)
        .max(1)
}

/// Computes `dx = dy · weight`, the gradient of a layer's input.
///
/// `dy` is `[rows][outputs]`, `weight` is `[outputs][inputs]` and `dx` is
/// `[rows][inputs]`.
///
/// # Panics
///
/// Panics if a slice length does not match `shape`.
pub fn linear_backward_input(shape: LinearShape, dy: &[f32], weight: &[f32], dx: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    if shape.is_narrow() {
        assert_eq!(dy.len(), rows * outputs, "output gradient length");
        assert_eq!(weight.len(), outputs * inputs, "weight length");
        assert_eq!(dx.len(), rows * inputs, "input gradient length");
        return backward_input_narrow(shape, dy, weight, dx);
    }
    let a = MatRef::row_major(dy, rows, outputs);
    let b = MatRef::row_major(weight, outputs, inputs);
    gemm(a, b, 0.0, dx);
}

/// Computes `dw = dyᵀ · x`, the gradient of a layer's weight, overwriting
/// `dw`.
///
/// `dy` is `[rows][outputs]`, `x` is `[rows][inputs]` and `dw` is
/// `[outputs][inputs]`.
///
/// # Panics
///
/// Panics if a slice length does not match `shape`.
pub fn linear_backward_weight(shape: LinearShape, dy: &[f32], x: &[f32], dw: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    if shape.is_narrow() {
        assert_eq!(dy.len(), rows * outputs, "output gradient length");
        assert_eq!(x.len(), rows * inputs, "input length");
        assert_eq!(dw.len(), outputs * inputs, "weight gradient length");
        return backward_weight_narrow(shape, dy, x, dw);
    }
    let a = MatRef::row_major(dy, rows, outputs).transposed();
    let b = MatRef::row_major(x, rows, inputs);
    gemm(a, b, 0.0, dw);
}

/// Writes the sum of each column of the row-major `[rows][cols]` matrix
/// `values` to `sums`, adding the rows in order.
///
/// # Panics
///
/// Panics if `values` does not hold `rows * cols` elements or `sums` does
/// not hold `cols`.
pub fn column_sums(values: &[f32], rows: usize, cols: usize, sums: &mut [f32]) {
    assert_eq!(values.len(), rows * cols, "matrix length");
    assert_eq!(sums.len(), cols, "column sums length");
    sums.fill(0.0);
    if cols == 0 {
        return;
    }
    for row in values.chunks_exact(cols) {
        for (sum, &value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
}
