import type { ModelEngine, ResolvedFit } from '../engine';
import type { Activation, EpochRecord, Evaluation, History, LayerWeights, Loss } from '../types';
import { resolveWeights } from '../validate';
import { ForwardWorkspace, Network } from './network';
import { evaluateNetwork, train } from './train';

/** Rows per forward pass in {@link JsMlp.predict}. */
const PREDICT_ROWS = 256;

/**
 * The pure-TypeScript engine of `Mlp`. Inputs arrive validated by
 * `ts/validate.ts`; `setWeights` validates again because it is cheap.
 *
 * `fit` trains a copy of the weights and stores it only when the run
 * completes, so `predict` and `getWeights` during a run see the weights
 * from before it, and an error or abort leaves them unchanged.
 */
export class JsMlp implements ModelEngine {
  readonly layers: readonly number[];
  readonly activation: Activation;
  #network: Network;
  #training = false;

  /** Creates a model with the initial weights that `seed` gives on every
   * engine (see `docs/semantics.md`). */
  constructor(layers: readonly number[], activation: Activation, seed: number) {
    this.layers = [...layers];
    this.activation = activation;
    this.#network = Network.initialize(this.layers, activation, seed);
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const network = this.#network;
    const inputs = this.layers[0];
    const outputs = network.outputs;
    const result = new Float32Array(rows * outputs);
    if (rows === 0) return result;

    const workspace = new ForwardWorkspace(this.layers, Math.min(rows, PREDICT_ROWS));
    for (let start = 0; start < rows; start += workspace.capacity) {
      const count = Math.min(workspace.capacity, rows - start);
      const chunk = x.subarray(start * inputs, (start + count) * inputs);
      const output = network.forward(chunk, count, workspace);
      result.set(output.subarray(0, count * outputs), start * outputs);
    }
    return result;
  }

  evaluate(x: Float32Array, rows: number, y: Float32Array | Int32Array, loss: Loss): Evaluation {
    return evaluateNetwork(this.#network, x, rows, y, loss);
  }

  getWeights(): LayerWeights[] {
    const network = this.#network;
    return network.weights.map((weight, l) => ({
      weight: weight.slice(),
      bias: network.biases[l].slice(),
      shape: [this.layers[l + 1], this.layers[l]],
    }));
  }

  setWeights(weights: LayerWeights[]): void {
    resolveWeights(this.layers, weights);
    const network = this.#network;
    weights.forEach((layer, l) => {
      network.weights[l].set(layer.weight);
      network.biases[l].set(layer.bias);
    });
  }

  async fit(
    x: Float32Array,
    rows: number,
    y: Float32Array | Int32Array,
    options: ResolvedFit,
    onEpoch?: (record: EpochRecord) => void,
    signal?: AbortSignal,
  ): Promise<History> {
    if (this.#training) {
      throw new Error('fit is already running on this model; await it before starting another.');
    }
    this.#training = true;
    try {
      const working = this.#network.clone();
      const history = await train(working, x, rows, y, options, onEpoch, signal);
      this.#network.copyFrom(working);
      return history;
    } finally {
      this.#training = false;
    }
  }
}
