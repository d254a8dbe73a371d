//! Checks the dense-layer products against an f64 reference, and checks
//! that splitting them over threads leaves every bit unchanged.

use onecycle_core::gemm::{
    column_sums, linear_backward_input, linear_backward_weight, linear_forward, LinearShape,
    NARROW_MAX_WORK, NARROW_OUTPUTS, PARALLEL_MIN_WORK,
};
use onecycle_core::Rng;

fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
    (0..len)
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect()
}

/// The operands of one layer's three products, drawn from `seed`.
struct Operands {
    shape: LinearShape,
    x: Vec<f32>,
    weight: Vec<f32>,
    bias: Vec<f32>,
    dy: Vec<f32>,
}

impl Operands {
    fn new(shape: LinearShape, seed: u32) -> Self {
        let LinearShape {
            rows,
            inputs,
            outputs,
        } = shape;
        let mut rng = Rng::new(seed);
        Operands {
            shape,
            x: random(rows * inputs, &mut rng),
            weight: random(outputs * inputs, &mut rng),
            bias: random(outputs, &mut rng),
            dy: random(rows * outputs, &mut rng),
        }
    }

    /// Runs the three products on a pool of `threads` threads and returns
    /// `y`, `dx` and `dw`.
    fn products(&self, threads: usize) -> [Vec<f32>; 3] {
        let LinearShape {
            rows,
            inputs,
            outputs,
        } = self.shape;
        let mut y = vec![0.0; rows * outputs];
        let mut dx = vec![0.0; rows * inputs];
        let mut dw = vec![0.0; outputs * inputs];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            linear_forward(self.shape, &self.x, &self.weight, &self.bias, &mut y);
            linear_backward_input(self.shape, &self.dy, &self.weight, &mut dx);
            linear_backward_weight(self.shape, &self.dy, &self.x, &mut dw);
        });
        [y, dx, dw]
    }

    /// Computes `y`, `dx` and `dw` in f64 with plain loops.
    fn reference(&self) -> [Vec<f64>; 3] {
        let LinearShape {
            rows,
            inputs,
            outputs,
        } = self.shape;
        let x = |r: usize, i: usize| f64::from(self.x[r * inputs + i]);
        let w = |o: usize, i: usize| f64::from(self.weight[o * inputs + i]);
        let dy = |r: usize, o: usize| f64::from(self.dy[r * outputs + o]);
        let mut y = vec![0.0; rows * outputs];
        let mut dx = vec![0.0; rows * inputs];
        let mut dw = vec![0.0; outputs * inputs];
        for r in 0..rows {
            for o in 0..outputs {
                let dot: f64 = (0..inputs).map(|i| x(r, i) * w(o, i)).sum();
                y[r * outputs + o] = f64::from(self.bias[o]) + dot;
            }
            for i in 0..inputs {
                dx[r * inputs + i] = (0..outputs).map(|o| dy(r, o) * w(o, i)).sum();
            }
        }
        for o in 0..outputs {
            for i in 0..inputs {
                dw[o * inputs + i] = (0..rows).map(|r| dy(r, o) * x(r, i)).sum();
            }
        }
        [y, dx, dw]
    }
}

/// Asserts that each product is within `tolerance` of the f64 reference.
fn assert_close(operands: &Operands, tolerance: f64) {
    let shape = operands.shape;
    let got = operands.products(1);
    let want = operands.reference();
    for (name, (got, want)) in ["y", "dx", "dw"].iter().zip(got.iter().zip(&want)) {
        for (index, (&got, &want)) in got.iter().zip(want).enumerate() {
            let error = (f64::from(got) - want).abs();
            assert!(
                error < tolerance,
                "{name} of {shape:?} at {index}: {got} vs {want}"
            );
        }
    }
}

fn shape(rows: usize, inputs: usize, outputs: usize) -> LinearShape {
    LinearShape {
        rows,
        inputs,
        outputs,
    }
}

#[test]
fn sgemm_products_match_f64_reference() {
    // Odd sizes reach the partial micro-tiles, and 300 inputs span two
    // blocks of matrixmultiply's k loop. The tolerance allows f32 rounding
    // of sums of up to 300 products of terms in [-1, 1].
    for (seed, shape) in [
        shape(3, 5, 17),
        shape(17, 300, 19),
        shape(33, 16, 257),
        shape(19, 23, 29),
    ]
    .into_iter()
    .enumerate()
    {
        assert!(shape.outputs > NARROW_OUTPUTS);
        assert_close(&Operands::new(shape, seed as u32), 1e-4);
    }
}

#[test]
fn narrow_products_match_f64_reference() {
    // Inputs 0 to 17 and 257 reach every remainder of the 16-lane dot
    // product, and every shape here takes the narrow kernels.
    for inputs in (0..=17).chain([257]) {
        for outputs in [1, 2, 10, NARROW_OUTPUTS] {
            let shape = shape(5, inputs, outputs);
            assert!(5 * inputs * outputs <= NARROW_MAX_WORK);
            assert_close(&Operands::new(shape, inputs as u32), 1e-4);
        }
    }
}

#[test]
fn thread_count_leaves_products_unchanged() {
    // Each shape has at least 2 * PARALLEL_MIN_WORK multiply-adds, so with
    // several threads every product is split.
    let shapes = [
        shape(512, 130, 10),
        shape(100, 300, 70),
        shape(70, 300, 100),
    ];
    for shape in shapes {
        assert!(shape.rows * shape.inputs * shape.outputs >= 2 * PARALLEL_MIN_WORK);
        let operands = Operands::new(shape, 21);
        let one = operands.products(1);
        for threads in [2, 3] {
            let many = operands.products(threads);
            for (name, (a, b)) in ["y", "dx", "dw"].iter().zip(one.iter().zip(&many)) {
                let first_difference = a
                    .iter()
                    .zip(b)
                    .position(|(x, y)| x.to_bits() != y.to_bits());
                assert_eq!(
                    first_difference, None,
                    "{name} of {shape:?} with {threads} threads"
                );
            }
        }
    }
}

#[test]
fn column_sums_add_rows() {
    let values = [1.0, 2.0, 3.0, 10.0, 20.0, 30.0];
    let mut sums = [9.0; 3];
    column_sums(&values, 2, 3, &mut sums);
    assert_eq!(sums, [11.0, 22.0, 33.0]);
}
