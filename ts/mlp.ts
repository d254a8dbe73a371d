import type { ModelEngine } from './engine';
import { JsMlp } from './js/mlp';
import { loadNative, resolveBackend } from './native';
import { NativeModelEngine } from './native-engine';
import type {
  Activation,
  Evaluation,
  FitOptions,
  History,
  LayerWeights,
  Loss,
  MlpOptions,
  Targets,
} from './types';
import {
  resolveEvaluate,
  resolveFit,
  resolveInputs,
  resolveMlpOptions,
  resolveWeights,
} from './validate';

/**
 * A dense multilayer perceptron: linear layers with PyTorch's default
 * initialisation and one activation after every layer but the last.
 *
 * Data are row-major `Float32Array`s, `rows * layers[0]` values long.
 * Training reads them in place: `fit` copies no data set, and only converts
 * class labels to `Int32Array` when they come in another integer type.
 * Do not write to the arrays while `fit` runs.
 */
export class Mlp {
  /** The engine running this model. */
  readonly backend: 'js' | 'native';
  readonly #engine: ModelEngine;
  #training = false;

  constructor(options: MlpOptions) {
    const resolved = resolveMlpOptions(options);
    this.backend = resolveBackend(options.backend);
    const binding = this.backend === 'native' ? loadNative() : null;
    this.#engine = binding
      ? new NativeModelEngine(
          binding,
          resolved.layers,
          resolved.activation,
          resolved.seed,
          resolved.threads,
        )
      : new JsMlp(resolved.layers, resolved.activation, resolved.seed);
  }

  /** Layer widths from input to output. */
  get layers(): readonly number[] {
    return this.#engine.layers;
  }

  get activation(): Activation {
    return this.#engine.activation;
  }

  /**
   * Trains the model and resolves to the history of the run. The native
   * engine trains on a worker thread; the TypeScript engine yields to the
   * event loop between batches. The model's weights change only when the
   * run completes: after an error or an abort they are as before.
   */
  async fit(x: Float32Array, y: Targets, options: FitOptions): Promise<History> {
    const { rows, targets, fit } = resolveFit(options, this.layers, x, y);
    const first = !this.#training;
    this.#training = true;
    try {
      return await this.#engine.fit(x, rows, targets, fit, options.onEpoch, options.signal);
    } finally {
      if (first) this.#training = false;
    }
  }

  /** Returns the model outputs, `rows * layers[last]` values row-major
   * (logits for the classification losses). */
  predict(x: Float32Array): Float32Array {
    const rows = resolveInputs(this.layers, x, 'x');
    return this.#engine.predict(x, rows);
  }

  /** Computes the mean loss and, for classification, the accuracy on a
   * data set. */
  evaluate(x: Float32Array, y: Targets, loss?: Loss): Evaluation {
    const resolved = resolveEvaluate(this.layers, x, y, loss);
    return this.#engine.evaluate(x, resolved.rows, resolved.targets, resolved.loss);
  }

  /** Returns a copy of every layer's weight and bias. */
  getWeights(): LayerWeights[] {
    return this.#engine.getWeights();
  }

  /** Replaces every layer's weight and bias; shapes must match
   * {@link layers}. */
  setWeights(weights: LayerWeights[]): void {
    if (this.#training) {
      throw new Error('setWeights cannot run while fit is training this model; await fit first.');
    }
    resolveWeights(this.layers, weights);
    this.#engine.setWeights(weights);
  }
}
