//! Products on matrixmultiply's `sgemm`, with C cut into one block per
//! thread of the current rayon pool.

use rayon::prelude::*;

use super::{available_threads, BLOCK_ALIGN, PARALLEL_MIN_WORK};

/// A read-only strided view of a matrix.
#[derive(Debug, Clone, Copy)]
pub(super) struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> MatRef<'a> {
    /// Views `data` as a row-major `[rows][cols]` matrix.
    pub(super) fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
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

    pub(super) fn transposed(self) -> Self {
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
pub(super) fn gemm(a: MatRef<'_>, b: MatRef<'_>, beta: f32, c: &mut [f32]) {
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
    use crate::gemm::tests::random;
    use crate::rng::Rng;

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
