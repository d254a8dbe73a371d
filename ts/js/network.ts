import type { Activation, Loss } from '../types';
import { activate, activationBackward } from './activation';
import { matmulNT, transpose } from './gemm';
import { lossSum } from './loss';
import { Rng } from './rng';
import { sgdUpdate, type SgdStep } from './sgd';

/** Buffers of a forward pass over up to `capacity` rows: each layer's
 * pre-activation and, for hidden layers, its activation output. */
export class ForwardWorkspace {
  readonly capacity: number;
  readonly pre: Float32Array[];
  readonly post: Float32Array[];

  constructor(sizes: readonly number[], capacity: number) {
    this.capacity = capacity;
    this.pre = sizes.slice(1).map((width) => new Float32Array(capacity * width));
    this.post = sizes.slice(1, -1).map((width) => new Float32Array(capacity * width));
  }
}

/** Forward buffers plus the backward pass's buffers, allocated once per
 * training run and reused by every batch. */
export class TrainWorkspace extends ForwardWorkspace {
  /** Gradient with respect to the current layer's output, and the one
   * being computed for the layer below. */
  gradOut: Float32Array;
  gradIn: Float32Array;
  /** The output gradient transposed to `[width][rows]`. */
  readonly gradT: Float32Array;
  /** The layer input transposed to `[width][rows]`. */
  readonly inputT: Float32Array;
  /** A layer's weight transposed to `[in][out]`. */
  readonly weightT: Float32Array;
  /** Weight and bias gradient of the layer being updated. */
  readonly gradWeight: Float32Array;
  readonly gradBias: Float32Array;

  constructor(sizes: readonly number[], capacity: number) {
    super(sizes, capacity);
    const widest = Math.max(...sizes);
    let largestWeight = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      largestWeight = Math.max(largestWeight, sizes[l] * sizes[l + 1]);
    }
    this.gradOut = new Float32Array(capacity * widest);
    this.gradIn = new Float32Array(capacity * widest);
    this.gradT = new Float32Array(capacity * widest);
    this.inputT = new Float32Array(capacity * widest);
    this.weightT = new Float32Array(largestWeight);
    this.gradWeight = new Float32Array(largestWeight);
    this.gradBias = new Float32Array(widest);
  }
}

/** An SGD step on each layer's gradient, with one momentum buffer per
 * parameter tensor. */
export interface SgdSink {
  kind: 'sgd';
  step: SgdStep;
  weightBuffers: Float32Array[];
  biasBuffers: Float32Array[];
}

/** A copy of each layer's gradient, for inspection. */
export interface CopySink {
  kind: 'copy';
  weights: Float32Array[];
  biases: Float32Array[];
}

/** The destination of each layer's gradient in the backward pass. */
export type GradientSink = SgdSink | CopySink;

/**
 * The parameters of a dense MLP and its forward and backward passes.
 * Layer `l` has a weight `[sizes[l+1]][sizes[l]]`, row-major as PyTorch
 * stores `nn.Linear.weight`, and a bias of `sizes[l+1]` values.
 */
export class Network {
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly weights: Float32Array[];
  readonly biases: Float32Array[];

  constructor(
    sizes: readonly number[],
    activation: Activation,
    weights: Float32Array[],
    biases: Float32Array[],
  ) {
    this.sizes = sizes;
    this.activation = activation;
    this.weights = weights;
    this.biases = biases;
  }

  /** Creates a network with PyTorch's default `nn.Linear` distribution,
   * uniform on ±1/sqrt(fan_in), drawn from the seeded generator: each
   * layer's weights in row-major order, then its biases. */
  static initialize(sizes: readonly number[], activation: Activation, seed: number): Network {
    const rng = new Rng(seed);
    const weights: Float32Array[] = [];
    const biases: Float32Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l];
      const fanOut = sizes[l + 1];
      const bound = 1 / Math.sqrt(fanIn);
      const weight = new Float32Array(fanOut * fanIn);
      for (let i = 0; i < weight.length; i++) {
        weight[i] = (2 * rng.nextF64() - 1) * bound;
      }
      const bias = new Float32Array(fanOut);
      for (let i = 0; i < fanOut; i++) {
        bias[i] = (2 * rng.nextF64() - 1) * bound;
      }
      weights.push(weight);
      biases.push(bias);
    }
    return new Network(sizes, activation, weights, biases);
  }

  /** Returns a deep copy. */
  clone(): Network {
    return new Network(
      this.sizes,
      this.activation,
      this.weights.map((weight) => weight.slice()),
      this.biases.map((bias) => bias.slice()),
    );
  }

  /** Copies every parameter of `other`, which has the same sizes. */
  copyFrom(other: Network): void {
    this.weights.forEach((weight, l) => weight.set(other.weights[l]));
    this.biases.forEach((bias, l) => bias.set(other.biases[l]));
  }

  get outputs(): number {
    return this.sizes[this.sizes.length - 1];
  }

  /** Runs `rows` rows of `x` (at most `workspace.capacity`) through the
   * network and returns the buffer whose first `rows * outputs` values
   * are the output. */
  forward(x: Float32Array, rows: number, workspace: ForwardWorkspace): Float32Array {
    const layers = this.weights.length;
    let input = x;
    for (let l = 0; l < layers; l++) {
      const fanIn = this.sizes[l];
      const fanOut = this.sizes[l + 1];
      const pre = workspace.pre[l];
      matmulNT(rows, fanOut, fanIn, input, this.weights[l], pre, this.biases[l]);
      if (l + 1 < layers) {
        activate(this.activation, pre, workspace.post[l], rows * fanOut);
        input = workspace.post[l];
      }
    }
    return workspace.pre[layers - 1];
  }

  /**
   * Runs one training step on a batch: forward, loss, backward, and for
   * each layer from the last to the first, hands the gradient to `sink`
   * as soon as it is complete. A layer's SGD step runs after the gradient
   * below it has been computed from its old weights, so the result equals
   * a full backward pass followed by the update. Returns the batch loss
   * sum (see {@link lossSum}).
   */
  trainBatch(
    x: Float32Array,
    rows: number,
    y: Float32Array | Int32Array,
    loss: Loss,
    workspace: TrainWorkspace,
    sink: GradientSink,
  ): number {
    const output = this.forward(x, rows, workspace);
    const sum = lossSum(loss, output, rows, this.outputs, y, 0, workspace.gradOut);
    if (!Number.isFinite(sum)) return sum;

    for (let l = this.weights.length - 1; l >= 0; l--) {
      const fanIn = this.sizes[l];
      const fanOut = this.sizes[l + 1];
      const input = l === 0 ? x : workspace.post[l - 1];
      this.layerGradient(l, input, rows, workspace);

      // The gradient for the layer below, sum_o grad[r][o] * weight[o][i],
      // uses this layer's weights before the update.
      if (l > 0) {
        transpose(this.weights[l], fanOut, fanIn, workspace.weightT);
        matmulNT(rows, fanIn, fanOut, workspace.gradOut, workspace.weightT, workspace.gradIn, null);
        const pre = workspace.pre[l - 1];
        const post = workspace.post[l - 1];
        activationBackward(this.activation, pre, post, workspace.gradIn, rows * fanIn);
      }
      this.applyGradient(l, workspace, sink);

      const swap = workspace.gradOut;
      workspace.gradOut = workspace.gradIn;
      workspace.gradIn = swap;
    }
    return sum;
  }

  /** Computes layer `l`'s weight and bias gradient from the gradient of
   * its output (`workspace.gradOut`) and its input. */
  private layerGradient(l: number, input: Float32Array, rows: number, workspace: TrainWorkspace) {
    const fanIn = this.sizes[l];
    const fanOut = this.sizes[l + 1];
    const { gradT, inputT, gradBias } = workspace;

    // Both operands go to [width][rows], so the weight gradient
    // sum_r grad[r][o] * input[r][i] reads contiguous rows.
    transpose(workspace.gradOut, rows, fanOut, gradT);
    transpose(input, rows, fanIn, inputT);
    matmulNT(fanOut, fanIn, rows, gradT, inputT, workspace.gradWeight, null);

    for (let o = 0; o < fanOut; o++) {
      let sum = 0;
      const start = o * rows;
      for (let r = 0; r < rows; r++) {
        sum += gradT[start + r];
      }
      gradBias[o] = sum;
    }
  }

  private applyGradient(l: number, workspace: TrainWorkspace, sink: GradientSink) {
    const weightCount = this.weights[l].length;
    const biasCount = this.biases[l].length;
    if (sink.kind === 'copy') {
      sink.weights[l].set(workspace.gradWeight.subarray(0, weightCount));
      sink.biases[l].set(workspace.gradBias.subarray(0, biasCount));
      return;
    }
    const { gradWeight, gradBias } = workspace;
    sgdUpdate(this.weights[l], gradWeight, sink.weightBuffers[l], weightCount, sink.step);
    sgdUpdate(this.biases[l], gradBias, sink.biasBuffers[l], biasCount, sink.step);
  }
}
