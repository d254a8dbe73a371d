use super::kernels::dot;
use super::*;
use crate::rng::Rng;

pub(super) fn random(len: usize, rng: &mut Rng) -> Vec<f32> {
    (0..len)
        .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
        .collect()
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
