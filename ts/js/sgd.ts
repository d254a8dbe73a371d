/** SGD settings of one optimizer step, PyTorch's `torch.optim.SGD`
 * arguments with the learning rate and momentum of that step. */
export interface SgdStep {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** True until the first step with non-zero momentum has run: that step
   * seeds the momentum buffer with the gradient, as PyTorch does. */
  seedBuffer: boolean;
}

/**
 * Updates one parameter tensor in place with PyTorch's SGD rule, in one
 * pass that reads the parameter, gradient and momentum buffer once each:
 *
 * ```
 * g = grad + weightDecay * w
 * if momentum != 0:
 *     buf = g                                    (seedBuffer)
 *     buf = momentum * buf + (1 - dampening) * g (otherwise)
 *     g = nesterov ? g + momentum * buf : buf
 * w = w - lr * g
 * ```
 *
 * `g` and `buf` are rounded to float32 where PyTorch's float32 run stores
 * them; the rest is computed in f64 and rounded once, on store.
 */
export function sgdUpdate(
  param: Float32Array,
  grad: Float32Array,
  buffer: Float32Array,
  count: number,
  step: SgdStep,
): void {
  const { lr, momentum, nesterov, weightDecay } = step;
  const gradScale = 1 - step.dampening;

  if (momentum === 0) {
    for (let i = 0; i < count; i++) {
      const w = param[i];
      param[i] = w - lr * Math.fround(grad[i] + weightDecay * w);
    }
    return;
  }

  if (step.seedBuffer) {
    for (let i = 0; i < count; i++) {
      const w = param[i];
      const g = Math.fround(grad[i] + weightDecay * w);
      buffer[i] = g;
      param[i] = w - lr * (nesterov ? g + momentum * g : g);
    }
    return;
  }

  for (let i = 0; i < count; i++) {
    const w = param[i];
    const g = Math.fround(grad[i] + weightDecay * w);
    const b = Math.fround(momentum * buffer[i] + gradScale * g);
    buffer[i] = b;
    param[i] = w - lr * (nesterov ? g + momentum * b : b);
  }
}
