//! The kernels that skip `sgemm`: the products of narrow layers and the dot
//! products of [`linear_forward_dot`](super::linear_forward_dot). Each loop
//! is a [`SimdLoop`] body, so that [`Simd::run`] compiles it once per
//! instruction set.

use super::simd::{Simd, SimdLoop};
use super::LinearShape;

/// Lanes of the dot-product accumulator: one AVX-512 vector, or four SSE2
/// vectors on the baseline target.
const DOT_LANES: usize = 16;

/// Weight rows whose dot products with one input row
/// [`linear_forward_dot`](super::linear_forward_dot) computes together, the
/// width of [`dot4`].
pub(super) const DOT_GROUP: usize = 4;

/// Adds `x[r] · weight[o]` to `y[r][o]`, which contains the bias, one dot
/// product per output.
pub(super) fn forward_narrow(shape: LinearShape, x: &[f32], weight: &[f32], y: &mut [f32]) {
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
pub(super) fn backward_input_narrow(
    shape: LinearShape,
    dy: &[f32],
    weight: &[f32],
    dx: &mut [f32],
) {
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
pub(super) fn backward_weight_narrow(shape: LinearShape, dy: &[f32], x: &[f32], dw: &mut [f32]) {
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

/// Outputs of [`linear_forward_dot`](super::linear_forward_dot) for a block
/// of weight rows:
/// `out[o * output_stride + r * row_stride] = bias[o] + x[r] · weight[o]`.
pub(super) struct DotOutputs<'a> {
    pub(super) x: &'a [f32],
    pub(super) weight: &'a [f32],
    pub(super) bias: &'a [f32],
    pub(super) out: &'a mut [f32],
    pub(super) inputs: usize,
    pub(super) output_stride: usize,
    pub(super) row_stride: usize,
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
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemm::tests::random;
    use crate::rng::Rng;

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
}
