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
//! micro-tile as for a partial one at the edge. The tests in this file check
//! that invariance for every block count and both split directions, so a
//! matrixmultiply version that broke it would fail them.

use std::cell::Cell;

use rayon::prelude::*;

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

/// Lanes of the dot-product accumulator: one AVX-512 vector, or four SSE2
/// vectors on the baseline target.
const DOT_LANES: usize = 16;

/// Weight rows whose dot products with one input row
/// [`linear_forward_dot`] computes together, the width of [`dot4`].
const DOT_GROUP: usize = 4;

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

/// Adds `x[r] · weight[o]` to `y[r][o]`, which contains the bias, one dot
/// product per output.
fn forward_narrow(shape: LinearShape, x: &[f32], weight: &[f32], y: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    if rows == 0 || inputs == 0 || outputs == 0 {
        return;
    }
    Simd::detect().run(ForwardRows {
        x,
        weight,
        y,
        inputs,
        outputs,
    });
}

/// Computes `dx[r] = sum_o dy[r][o] * weight[o]`, adding in order of `o`.
fn backward_input_narrow(shape: LinearShape, dy: &[f32], weight: &[f32], dx: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    dx.fill(0.0);
    if rows == 0 || inputs == 0 || outputs == 0 {
        return;
    }
    Simd::detect().run(InputRows {
        dy,
        weight,
        dx,
        inputs,
        outputs,
    });
}

/// Computes `dw[o] = sum_r dy[r][o] * x[r]`, adding in order of `r`.
fn backward_weight_narrow(shape: LinearShape, dy: &[f32], x: &[f32], dw: &mut [f32]) {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    dw.fill(0.0);
    if rows == 0 || inputs == 0 || outputs == 0 {
        return;
    }
    let simd = Simd::detect();
    for (output, row) in dw.chunks_exact_mut(inputs).enumerate() {
        simd.run(WeightRow {
            shape,
            dy,
            x,
            output,
            row,
        });
    }
}

/// Rows of the narrow forward pass: `y[r][o] += x[r] · weight[o]`.
struct ForwardRows<'a> {
    x: &'a [f32],
    weight: &'a [f32],
    y: &'a mut [f32],
    inputs: usize,
    outputs: usize,
}

impl SimdLoop for ForwardRows<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let rows = self
            .x
            .chunks_exact(self.inputs)
            .zip(self.y.chunks_exact_mut(self.outputs));
        for (x_row, y_row) in rows {
            for (y, w_row) in y_row.iter_mut().zip(self.weight.chunks_exact(self.inputs)) {
                *y += dot(x_row, w_row);
            }
        }
    }
}

/// Outputs of [`linear_forward_dot`] for a block of weight rows:
/// `out[o * output_stride + r * row_stride] = bias[o] + x[r] · weight[o]`.
struct DotOutputs<'a> {
    x: &'a [f32],
    weight: &'a [f32],
    bias: &'a [f32],
    out: &'a mut [f32],
    inputs: usize,
    output_stride: usize,
    row_stride: usize,
}

impl SimdLoop for DotOutputs<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let inputs = self.inputs;
        let group = DOT_GROUP * inputs;
        let (groups, rest) = self.weight.split_at(self.weight.len() / group * group);

        // Groups of DOT_GROUP weight rows, each dotted with every input row.
        for (g, w_rows) in groups.chunks_exact(group).enumerate() {
            let w_rows: [&[f32]; DOT_GROUP] =
                std::array::from_fn(|i| &w_rows[i * inputs..(i + 1) * inputs]);
            for (r, x_row) in self.x.chunks_exact(inputs).enumerate() {
                let sums = dot4(w_rows, x_row);
                for (i, sum) in sums.into_iter().enumerate() {
                    let o = g * DOT_GROUP + i;
                    self.out[o * self.output_stride + r * self.row_stride] = self.bias[o] + sum;
                }
            }
        }

        // The remaining weight rows, one at a time.
        let first = groups.len() / inputs;
        for (i, w_row) in rest.chunks_exact(inputs).enumerate() {
            let o = first + i;
            for (r, x_row) in self.x.chunks_exact(inputs).enumerate() {
                self.out[o * self.output_stride + r * self.row_stride] =
                    self.bias[o] + dot(x_row, w_row);
            }
        }
    }
}

/// Rows of the narrow input gradient: `dx[r] = sum_o dy[r][o] * weight[o]`
/// into a zeroed `dx`.
struct InputRows<'a> {
    dy: &'a [f32],
    weight: &'a [f32],
    dx: &'a mut [f32],
    inputs: usize,
    outputs: usize,
}

impl SimdLoop for InputRows<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let rows = self
            .dy
            .chunks_exact(self.outputs)
            .zip(self.dx.chunks_exact_mut(self.inputs));
        for (dy_row, dx_row) in rows {
            for (&scale, w_row) in dy_row.iter().zip(self.weight.chunks_exact(self.inputs)) {
                axpy(scale, w_row, dx_row);
            }
        }
    }
}

/// A row of the narrow weight gradient: adds `sum_r dy[r][output] * x[r]`
/// to `row`.
struct WeightRow<'a> {
    shape: LinearShape,
    dy: &'a [f32],
    x: &'a [f32],
    output: usize,
    row: &'a mut [f32],
}

impl SimdLoop for WeightRow<'_> {
    type Output = ();

    #[inline(always)]
    fn run(self) {
        let LinearShape {
            inputs, outputs, ..
        } = self.shape;
        for (dy_row, x_row) in self
            .dy
            .chunks_exact(outputs)
            .zip(self.x.chunks_exact(inputs))
        {
            axpy(dy_row[self.output], x_row, self.row);
        }
    }
}

/// Returns `sum_i a[i] * b[i]`, summed in `DOT_LANES` interleaved partial
/// sums that are then added pairwise, so the order depends only on the
/// length.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; DOT_LANES];
    let (a_chunks, a_tail) = a.as_chunks::<DOT_LANES>();
    let (b_chunks, b_tail) = b.as_chunks::<DOT_LANES>();
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..DOT_LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let mut width = DOT_LANES;
    while width > 1 {
        width /= 2;
        for lane in 0..width {
            lanes[lane] += lanes[lane + width];
        }
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    lanes[0] + tail
}

/// Returns `[dot(b, a[0]), ..., dot(b, a[3])]`, each summed exactly as
/// [`dot`] sums it, so the results have the same bits. The four sums run
/// interleaved, which hides the latency of each one's chain of adds.
///
/// The four accumulators are separate variables rather than an array of
/// arrays. With rustc 1.95, LLVM kept the array form in memory once the
/// function was inlined in more than one place, which made it about 8 times
/// slower on AVX-512.
#[inline(always)]
fn dot4(a: [&[f32]; 4], b: &[f32]) -> [f32; 4] {
    let (b_chunks, b_tail) = b.as_chunks::<DOT_LANES>();
    let chunks = b_chunks.len();
    let a0 = &a[0].as_chunks::<DOT_LANES>().0[..chunks];
    let a1 = &a[1].as_chunks::<DOT_LANES>().0[..chunks];
    let a2 = &a[2].as_chunks::<DOT_LANES>().0[..chunks];
    let a3 = &a[3].as_chunks::<DOT_LANES>().0[..chunks];
    let mut lanes0 = [0.0f32; DOT_LANES];
    let mut lanes1 = [0.0f32; DOT_LANES];
    let mut lanes2 = [0.0f32; DOT_LANES];
    let mut lanes3 = [0.0f32; DOT_LANES];
    for c in 0..chunks {
        let y = &b_chunks[c];
        let (x0, x1, x2, x3) = (&a0[c], &a1[c], &a2[c], &a3[c]);
        for lane in 0..DOT_LANES {
            lanes0[lane] += x0[lane] * y[lane];
            lanes1[lane] += x1[lane] * y[lane];
            lanes2[lane] += x2[lane] * y[lane];
            lanes3[lane] += x3[lane] * y[lane];
        }
    }

    let finish = |lanes: [f32; DOT_LANES], a: &[f32]| {
        let a_tail = &a[chunks * DOT_LANES..];
        let tail: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
        sum_lanes(lanes) + tail
    };
    [
        finish(lanes0, a[0]),
        finish(lanes1, a[1]),
        finish(lanes2, a[2]),
        finish(lanes3, a[3]),
    ]
}

/// Adds the lanes pairwise, in the order that [`dot`] uses.
#[inline(always)]
fn sum_lanes(mut lanes: [f32; DOT_LANES]) -> f32 {
    let mut width = DOT_LANES;
    while width > 1 {
        width /= 2;
        for lane in 0..width {
            lanes[lane] += lanes[lane + width];
        }
    }
    lanes[0]
}

/// `y += alpha * x`.
#[inline(always)]
fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// An instruction set that the crate's own vector loops (the narrow
/// products, the SGD update) are compiled for, chosen at run time from what
/// the CPU supports. Every loop uses separate multiplies and adds, never
/// FMA, so all instruction sets give the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Simd {
    /// The target's baseline, SSE2 on x86-64.
    Baseline,
    /// 256-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 512-bit vectors.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// A loop body that [`Simd::run`] compiles once per instruction set.
/// Implementations mark `run` `#[inline(always)]`, so that it is compiled
/// inside each wrapper with that wrapper's target features.
pub(crate) trait SimdLoop {
    /// The loop's result.
    type Output;

    /// Runs the loop.
    fn run(self) -> Self::Output;
}

impl Simd {
    /// Returns the widest instruction set that the running CPU supports.
    pub(crate) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    }

    /// Returns every instruction set that the running CPU supports.
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Simd> {
        let all = [
            Simd::Baseline,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512,
        ];
        all.into_iter().filter(|simd| simd.is_supported()).collect()
    }

    fn is_supported(self) -> bool {
        match self {
            Simd::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
        }
    }

    /// Runs `body` compiled for this instruction set.
    ///
    /// # Panics
    ///
    /// Panics if the running CPU does not support the instruction set.
    #[inline]
    pub(crate) fn run<L: SimdLoop>(self, body: L) -> L::Output {
        assert!(self.is_supported(), "{self:?} is not supported by this CPU");
        match self {
            Simd::Baseline => body.run(),
            // SAFETY: the assert above checked that the CPU has AVX2.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { run_avx2(body) },
            // SAFETY: the assert above checked that the CPU has AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => unsafe { run_avx512(body) },
        }
    }
}

/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_avx2<L: SimdLoop>(body: L) -> L::Output {
    body.run()
}

/// # Safety
///
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512<L: SimdLoop>(body: L) -> L::Output {
    body.run()
}

/// A read-only strided view of a matrix.
#[derive(Debug, Clone, Copy)]
struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> MatRef<'a> {
    /// Views `data` as a row-major `[rows][cols]` matrix.
    fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "matrix of {rows} × {cols} elements"
        );
        MatRef {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    fn transposed(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// Returns the view of rows `start .. start + count`.
    fn row_block(self, start: usize, count: usize) -> Self {
        assert!(start + count <= self.rows);
        let data = if count == 0 {
            &self.data[..0]
        } else {
            &self.data[start * self.rs..]
        };
        MatRef {
            data,
            rows: count,
            ..self
        }
    }

    /// Returns the view of columns `start .. start + count`.
    fn col_block(self, start: usize, count: usize) -> Self {
        assert!(start + count <= self.cols);
        let data = if count == 0 {
            &self.data[..0]
        } else {
            &self.data[start * self.cs..]
        };
        MatRef {
            data,
            cols: count,
            ..self
        }
    }

    /// Returns whether every element of the view lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1) * self.rs + (self.cols - 1) * self.cs;
        last < self.data.len()
    }
}

/// The cut of a product into blocks of C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    /// Whether blocks are ranges of rows (else ranges of columns).
    split_rows: bool,
    /// Rows or columns per block; the last block may have fewer.
    block: usize,
}

impl Plan {
    /// Chooses one block per thread, as long as each block keeps at least
    /// `PARALLEL_MIN_WORK` multiply-adds and `BLOCK_ALIGN` rows or columns.
    fn new(m: usize, k: usize, n: usize, threads: usize) -> Self {
        let split_rows = m >= n;
        let extent = if split_rows { m } else { n };
        let work = m.saturating_mul(k).saturating_mul(n);
        let blocks = threads
            .min(work / PARALLEL_MIN_WORK)
            .min(extent / BLOCK_ALIGN)
            .max(1);
        Plan::with_blocks(extent, blocks, split_rows)
    }

    /// Cuts `extent` rows or columns into at most `blocks` aligned blocks.
    fn with_blocks(extent: usize, blocks: usize, split_rows: bool) -> Self {
        let block = extent.div_ceil(blocks.max(1)).next_multiple_of(BLOCK_ALIGN);
        Plan {
            split_rows,
            block: block.max(1),
        }
    }
}

/// Computes `c = a · b + beta c` for a row-major `c` of `a.rows × b.cols`,
/// split over the threads of the current rayon pool.
fn gemm(a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let plan = Plan::new(m, k, n, available_threads());
    gemm_with_plan(a, b, beta, c, plan);
}

fn gemm_with_plan(a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: &mut [f32], plan: Plan) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions of the product differ");
    assert!(a.in_bounds(), "left operand view out of bounds");
    assert!(b.in_bounds(), "right operand view out of bounds");
    assert_eq!(c.len(), m * n, "product length");
    if m == 0 || n == 0 {
        return;
    }

    let extent = if plan.split_rows { m } else { n };
    let blocks = extent.div_ceil(plan.block);
    let c = SharedMut(c.as_mut_ptr());
    let run_block = |index: usize| {
        let start = index * plan.block;
        let count = plan.block.min(extent - start);
        let (a, b, offset) = if plan.split_rows {
            (a.row_block(start, count), b, start * n)
        } else {
            (a, b.col_block(start, count), start)
        };
        // SAFETY: `offset` is the first element of this block of `c`, which
        // has `m * n` elements, and the block's rows and columns lie inside
        // `c`. Blocks cover disjoint rows or disjoint columns, so no other
        // call writes these elements, and `c` is borrowed mutably for the
        // whole of `gemm_with_plan`, which returns after every block.
        unsafe { sgemm_block(a, b, beta, c.get().add(offset), n) };
    };

    if blocks == 1 {
        run_block(0);
    } else {
        (0..blocks).into_par_iter().for_each(run_block);
    }
}

/// Computes one block `c = a · b + beta c`, where `c` has row stride `rsc`.
///
/// # Safety
///
/// `a` and `b` must be in bounds, and `c` must be valid for reads and writes
/// of the `a.rows × b.cols` elements at `c + i * rsc + j`, which no other
/// thread may access during the call.
unsafe fn sgemm_block(a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: *mut f32, rsc: usize) {
    debug_assert!(a.in_bounds() && b.in_bounds());
    // SAFETY: the views are in bounds, so matrixmultiply reads only inside
    // `a.data` and `b.data`, and the caller guarantees exclusive access to
    // the elements of `c` it writes. Strides fit in `isize` because they
    // index slices that exist.
    unsafe {
        matrixmultiply::sgemm(
            a.rows,
            a.cols,
            b.cols,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c,
            rsc as isize,
            1,
        );
    }
}

/// A pointer to the output of a product, shared by the threads that write
/// its disjoint blocks.
#[derive(Clone, Copy)]
struct SharedMut(*mut f32);

impl SharedMut {
    /// Returns the pointer. Closures call this method rather than reading
    /// the field, so that they capture the `Sync` wrapper and not the bare
    /// pointer.
    fn get(self) -> *mut f32 {
        self.0
    }
}

// SAFETY: `gemm_with_plan` hands each thread a different block of the
// pointee and waits for all of them before the borrow that it came from
// ends.
unsafe impl Send for SharedMut {}
// SAFETY: as for `Send`; threads only copy the pointer.
unsafe impl Sync for SharedMut {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
        (0..len)
            .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
            .collect()
    }

    #[test]
    fn narrow_kernels_give_same_bits_on_every_instruction_set() {
        let mut rng = Rng::new(31);
        for inputs in (1..=17).chain([257]) {
            let shape = LinearShape {
                rows: 3,
                inputs,
                outputs: 4,
            };
            let x = random(3 * inputs, &mut rng);
            let w = random(4 * inputs, &mut rng);
            let dy = random(3 * 4, &mut rng);
            let run_all = |simd: Simd| {
                let mut y = vec![0.5; 3 * 4];
                simd.run(ForwardRows {
                    x: &x,
                    weight: &w,
                    y: &mut y,
                    inputs,
                    outputs: 4,
                });
                let mut dx = vec![0.0; 3 * inputs];
                simd.run(InputRows {
                    dy: &dy,
                    weight: &w,
                    dx: &mut dx,
                    inputs,
                    outputs: 4,
                });
                let mut dw = vec![0.0; inputs];
                simd.run(WeightRow {
                    shape,
                    dy: &dy,
                    x: &x,
                    output: 2,
                    row: &mut dw,
                });
                [y, dx, dw].map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            };
            let baseline = run_all(Simd::Baseline);
            for simd in Simd::supported() {
                assert_eq!(run_all(simd), baseline, "{simd:?} with {inputs} inputs");
            }
        }
    }

    #[test]
    fn dot4_matches_dot_per_simd() {
        struct Dots<'a> {
            a: [&'a [f32]; 4],
            b: &'a [f32],
        }
        impl SimdLoop for Dots<'_> {
            type Output = [f32; 4];

            #[inline(always)]
            fn run(self) -> [f32; 4] {
                dot4(self.a, self.b)
            }
        }

        let mut rng = Rng::new(37);
        for len in (0..=17).chain([31, 33, 257, 784]) {
            let a: Vec<Vec<f32>> = (0..4).map(|_| random(len, &mut rng)).collect();
            let b = random(len, &mut rng);
            let rows = [&a[0][..], &a[1][..], &a[2][..], &a[3][..]];
            let expected = rows.map(|row| dot(&b, row).to_bits());
            for simd in Simd::supported() {
                let sums = simd.run(Dots { a: rows, b: &b });
                assert_eq!(
                    sums.map(f32::to_bits),
                    expected,
                    "{simd:?} with length {len}"
                );
            }
        }
    }

    /// Returns `bias[o] + dot(x[r], weight[o])` for every row and output,
    /// row-major.
    fn dot_reference(shape: LinearShape, x: &[f32], weight: &[f32], bias: &[f32]) -> Vec<u32> {
        let LinearShape { inputs, .. } = shape;
        let mut y = Vec::new();
        for x_row in x.chunks_exact(inputs) {
            for (w_row, &b) in weight.chunks_exact(inputs).zip(bias) {
                y.push((b + dot(x_row, w_row)).to_bits());
            }
        }
        y
    }

    #[test]
    fn dot_path_ignores_thread_count() {
        let mut rng = Rng::new(41);
        // Shapes of 1 and several rows, with outputs that are not a
        // multiple of DOT_GROUP and enough work for four blocks.
        for &(rows, inputs, outputs) in &[(1, 1024, 1031), (8, 257, 515), (3, 5, 7)] {
            let shape = LinearShape {
                rows,
                inputs,
                outputs,
            };
            let x = random(rows * inputs, &mut rng);
            let weight = random(outputs * inputs, &mut rng);
            let bias = random(outputs, &mut rng);
            let expected = dot_reference(shape, &x, &weight, &bias);
            for threads in 1..=4 {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut y = vec![0.0; rows * outputs];
                pool.install(|| linear_forward_dot(shape, &x, &weight, &bias, &mut y));
                let bits: Vec<u32> = y.iter().map(|v| v.to_bits()).collect();
                assert_eq!(bits, expected, "{shape:?} on {threads} threads");
            }
        }
    }

    #[test]
    fn dot_blocks_keep_small_products_whole() {
        let shape = |rows, inputs, outputs| LinearShape {
            rows,
            inputs,
            outputs,
        };
        assert_eq!(dot_blocks(shape(8, 257, 515), 4), 4);
        assert_eq!(dot_blocks(shape(1, 1024, 1031), 2), 2);
        assert_eq!(dot_blocks(shape(1, 784, 128), 2), 1);
        assert_eq!(dot_blocks(shape(3, 5, 7), 4), 1);
    }

    #[test]
    fn dot_path_matches_narrow_kernels() {
        let mut rng = Rng::new(43);
        let shape = LinearShape {
            rows: 5,
            inputs: 37,
            outputs: 10,
        };
        assert!(shape.is_narrow());
        let x = random(5 * 37, &mut rng);
        let weight = random(10 * 37, &mut rng);
        let bias = random(10, &mut rng);
        let mut narrow = vec![0.0; 5 * 10];
        let mut by_dot = vec![0.0; 5 * 10];
        linear_forward(shape, &x, &weight, &bias, &mut narrow);
        linear_forward_dot(shape, &x, &weight, &bias, &mut by_dot);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&narrow), bits(&by_dot));
    }

    #[test]
    fn inference_path_follows_row_count() {
        let mut rng = Rng::new(47);
        for rows in [1, INFERENCE_DOT_MAX_ROWS, INFERENCE_DOT_MAX_ROWS + 1, 40] {
            let shape = LinearShape {
                rows,
                inputs: 64,
                outputs: 48,
            };
            let x = random(rows * 64, &mut rng);
            let weight = random(48 * 64, &mut rng);
            let bias = random(48, &mut rng);
            let mut inference = vec![0.0; rows * 48];
            linear_forward_inference(shape, &x, &weight, &bias, &mut inference);
            let mut expected = vec![0.0; rows * 48];
            if rows <= INFERENCE_DOT_MAX_ROWS {
                linear_forward_dot(shape, &x, &weight, &bias, &mut expected);
            } else {
                linear_forward(shape, &x, &weight, &bias, &mut expected);
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&inference), bits(&expected), "{rows} rows");
        }
    }

    #[test]
    fn dot_path_handles_empty_shapes() {
        let shape = LinearShape {
            rows: 2,
            inputs: 0,
            outputs: 3,
        };
        let mut y = vec![9.0; 6];
        linear_forward_dot(shape, &[], &[], &[1.0, 2.0, 3.0], &mut y);
        assert_eq!(y, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        let shape = LinearShape {
            rows: 0,
            inputs: 4,
            outputs: 3,
        };
        linear_forward_dot(shape, &[], &[0.0; 12], &[0.0; 3], &mut []);
    }

    #[test]
    fn split_leaves_every_bit_unchanged() {
        let mut rng = Rng::new(13);
        for &(m, k, n) in &[(70, 300, 45), (45, 513, 70), (129, 31, 17)] {
            let a_data = random(m * k, &mut rng);
            let b_data = random(n * k, &mut rng);
            let c_init = random(m * n, &mut rng);
            let a = MatRef::row_major(&a_data, m, k);
            let b = MatRef::row_major(&b_data, n, k).transposed();
            let mut whole = c_init.clone();
            gemm_with_plan(a, b, 1.0, &mut whole, Plan::with_blocks(m, 1, true));
            for split_rows in [true, false] {
                let extent = if split_rows { m } else { n };
                for blocks in 2..=6 {
                    let plan = Plan::with_blocks(extent, blocks, split_rows);
                    let mut split = c_init.clone();
                    gemm_with_plan(a, b, 1.0, &mut split, plan);
                    for (index, (x, y)) in whole.iter().zip(&split).enumerate() {
                        assert_eq!(x.to_bits(), y.to_bits(), "{m}×{k}×{n} {plan:?} at {index}");
                    }
                }
            }
        }
    }

    #[test]
    fn plan_keeps_small_products_whole() {
        assert_eq!(Plan::new(32, 10, 64, 8).block, 64);
        let plan = Plan::new(128, 784, 256, 2);
        assert!(!plan.split_rows);
        assert_eq!(plan.block, 128);
        let plan = Plan::new(256, 128, 784, 1);
        assert_eq!(plan.block, 784);
    }
}
