import type { Activation } from '../types';
import { erf } from './erf';

/** PyTorch's default `negative_slope` of `leaky_relu`, as a float32. */
const LEAKY_SLOPE = Math.fround(0.01);
/** 1 / sqrt(2π), the peak of the standard normal density. */
const INV_SQRT_2PI = 0.3989422804014327;

/** Applies `activation` to the first `n` values of `z`, writing `out`. The
 * value is computed in f64 and rounded once to float32. */
export function activate(activation: Activation, z: Float32Array, out: Float32Array, n: number) {
  switch (activation) {
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = z[i];
        out[i] = v > 0 ? v : 0;
      }
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) {
        const v = z[i];
        out[i] = v > 0 ? v : v * LEAKY_SLOPE;
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) {
        out[i] = Math.tanh(z[i]);
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        out[i] = 1 / (1 + Math.exp(-z[i]));
      }
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) {
        const v = z[i];
        out[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
      }
      return;
    case 'identity':
      out.set(z.subarray(0, n));
      return;
  }
}

/**
 * Multiplies the gradient `grad` with respect to the activation output by
 * the activation's derivative, in place, turning it into the gradient with
 * respect to the pre-activation `z`. `a` is the activation output, from
 * which tanh and sigmoid take their derivative, as PyTorch does.
 */
export function activationBackward(
  activation: Activation,
  z: Float32Array,
  a: Float32Array,
  grad: Float32Array,
  n: number,
) {
  switch (activation) {
    case 'relu':
      for (let i = 0; i < n; i++) {
        if (!(z[i] > 0)) grad[i] = 0;
      }
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) {
        if (!(z[i] > 0)) grad[i] *= LEAKY_SLOPE;
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) {
        const y = a[i];
        grad[i] *= 1 - y * y;
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const y = a[i];
        grad[i] *= (1 - y) * y;
      }
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) {
        const v = z[i];
        const cdf = 0.5 * (1 + erf(v * Math.SQRT1_2));
        const pdf = Math.exp(-0.5 * v * v) * INV_SQRT_2PI;
        grad[i] *= cdf + v * pdf;
      }
      return;
    case 'identity':
      return;
  }
}
