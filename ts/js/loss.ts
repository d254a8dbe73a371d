import type { Loss } from '../types';

/** Returns the number of terms that `loss` averages over: the rows for
 * `cross_entropy`, every output value otherwise. */
export function lossTerms(loss: Loss, rows: number, outputs: number): number {
  return loss === 'cross_entropy' ? rows : rows * outputs;
}

/**
 * Sums the loss over `rows` rows of the model output `z` (`rows x
 * outputs`), against targets starting at row `targetRow` of `y`: class
 * labels for `cross_entropy`, `rows x outputs` floats otherwise. The sum is
 * f64.
 *
 * With `grad` given, also writes the gradient of the mean loss (the sum
 * divided by {@link lossTerms}) with respect to `z` into it.
 */
export function lossSum(
  loss: Loss,
  z: Float32Array,
  rows: number,
  outputs: number,
  y: Float32Array | Int32Array,
  targetRow: number,
  grad: Float32Array | null,
): number {
  const scale = 1 / lossTerms(loss, rows, outputs);
  switch (loss) {
    case 'mse':
      return mseSum(z, rows * outputs, y, targetRow * outputs, grad, scale);
    case 'cross_entropy':
      return crossEntropySum(z, rows, outputs, y, targetRow, grad, scale);
    case 'bce_with_logits':
      return bceSum(z, rows * outputs, y, targetRow * outputs, grad, scale);
  }
}

function mseSum(
  z: Float32Array,
  count: number,
  y: Float32Array | Int32Array,
  offset: number,
  grad: Float32Array | null,
  scale: number,
): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const diff = z[i] - y[offset + i];
    sum += diff * diff;
    if (grad !== null) grad[i] = 2 * diff * scale;
  }
  return sum;
}

/** Sums `logsumexp(z) - z[label]` per row, with the row maximum
 * subtracted before exponentiating. */
function crossEntropySum(
  z: Float32Array,
  rows: number,
  outputs: number,
  labels: Float32Array | Int32Array,
  firstRow: number,
  grad: Float32Array | null,
  scale: number,
): number {
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * outputs;
    let max = z[row];
    for (let j = 1; j < outputs; j++) {
      if (z[row + j] > max) max = z[row + j];
    }
    let expSum = 0;
    for (let j = 0; j < outputs; j++) {
      expSum += Math.exp(z[row + j] - max);
    }
    const label = labels[firstRow + r];
    sum += max + Math.log(expSum) - z[row + label];

    if (grad !== null) {
      for (let j = 0; j < outputs; j++) {
        const softmax = Math.exp(z[row + j] - max) / expSum;
        grad[row + j] = (j === label ? softmax - 1 : softmax) * scale;
      }
    }
  }
  return sum;
}

/** Sums `max(z, 0) - z * y + log(1 + exp(-|z|))`, the stable form of
 * binary cross-entropy on logits. */
function bceSum(
  z: Float32Array,
  count: number,
  y: Float32Array | Int32Array,
  offset: number,
  grad: Float32Array | null,
  scale: number,
): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const logit = z[i];
    const target = y[offset + i];
    const expNeg = Math.exp(-Math.abs(logit));
    sum += (logit > 0 ? logit : 0) - logit * target + Math.log1p(expNeg);
    if (grad !== null) {
      const sigmoid = logit >= 0 ? 1 / (1 + expNeg) : expNeg / (1 + expNeg);
      grad[i] = (sigmoid - target) * scale;
    }
  }
  return sum;
}

/**
 * Counts correct predictions in `rows` rows of the output `z`: rows whose
 * first largest logit is the label for `cross_entropy`, and values where
 * `z > 0` agrees with `y >= 0.5` for `bce_with_logits`. Returns 0 for
 * `mse`.
 */
export function countCorrect(
  loss: Loss,
  z: Float32Array,
  rows: number,
  outputs: number,
  y: Float32Array | Int32Array,
  targetRow: number,
): number {
  let correct = 0;
  if (loss === 'cross_entropy') {
    for (let r = 0; r < rows; r++) {
      const row = r * outputs;
      let best = 0;
      for (let j = 1; j < outputs; j++) {
        if (z[row + j] > z[row + best]) best = j;
      }
      if (best === y[targetRow + r]) correct++;
    }
  } else if (loss === 'bce_with_logits') {
    const offset = targetRow * outputs;
    for (let i = 0; i < rows * outputs; i++) {
      if (z[i] > 0 === y[offset + i] >= 0.5) correct++;
    }
  }
  return correct;
}
