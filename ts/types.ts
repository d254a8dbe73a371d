/** The engine that runs a model or schedule. `auto` picks `native` when the
 * binary loads and `js` otherwise. */
export type Backend = 'js' | 'native' | 'auto';

/** The shape of the learning-rate curve within a phase. */
export type AnnealStrategy = 'cos' | 'linear';

/** Options of {@link OneCycleLR}, PyTorch's `OneCycleLR` arguments in
 * camelCase. */
export interface OneCycleOptions {
  /** Peak learning rate, one value or one per parameter group. */
  maxLr: number | number[];
  /** Number of steps in the cycle. Give this or `epochs` with
   * `stepsPerEpoch`. */
  totalSteps?: number;
  /** Epochs in the run; the cycle has `epochs * stepsPerEpoch` steps. */
  epochs?: number;
  /** Optimizer steps (batches) per epoch. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising the learning rate, in [0, 1].
   * Default 0.3. */
  pctStart?: number;
  /** Annealing shape within each phase. Default `'cos'`. */
  annealStrategy?: AnnealStrategy;
  /** Move momentum inversely to the learning rate. Default true. */
  cycleMomentum?: boolean;
  /** Momentum at the peak learning rate. Default 0.85. */
  baseMomentum?: number | number[];
  /** Momentum at the lowest learning rates. Default 0.95. */
  maxMomentum?: number | number[];
  /** Initial learning rate is `maxLr / divFactor`. Default 25. */
  divFactor?: number;
  /** Final learning rate is `maxLr / divFactor / finalDivFactor`.
   * Default 1e4. */
  finalDivFactor?: number;
  /** Use a third phase that anneals back to the initial rate before
   * falling to the final one. Default false. */
  threePhase?: boolean;
  /** Index of the last finished step, to resume a run; -1 starts afresh.
   * Default -1. */
  lastEpoch?: number;
  /** Number of parameter groups when `maxLr` is a single number.
   * Default: the length of `maxLr`, or 1. */
  groups?: number;
  /** Engine to run on. Default `'auto'`. */
  backend?: Backend;
}

/** A schedule's complete state, as {@link OneCycleLR.state} returns it and
 * {@link OneCycleLR.fromState} takes it. */
export interface OneCycleState {
  totalSteps: number;
  maxLr: number[];
  pctStart: number;
  annealStrategy: AnnealStrategy;
  cycleMomentum: boolean;
  baseMomentum: number[];
  maxMomentum: number[];
  divFactor: number;
  finalDivFactor: number;
  threePhase: boolean;
  /** PyTorch's `last_epoch`: the index whose values `getLastLr` returns. */
  lastEpoch: number;
}

/** The whole schedule, one array per parameter group, with an entry per
 * step index `0 .. totalSteps - 1`. */
export interface ScheduleArrays {
  lr: Float64Array[];
  /** `null` when momentum does not cycle. */
  momentum: Float64Array[] | null;
}

/** Non-linearity applied after every layer except the last. */
export type Activation =
  | 'relu'
  | 'leaky_relu'
  | 'tanh'
  | 'sigmoid'
  | 'gelu'
  | 'identity';

/** Training loss, with PyTorch's mean reduction. */
export type Loss = 'mse' | 'cross_entropy' | 'bce_with_logits';

/** Class labels for `cross_entropy`, one integer per sample. */
export type Labels =
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** Targets: labels for `cross_entropy`, row-major floats otherwise. */
export type Targets = Labels | Float32Array;

/** Options of {@link Mlp}. */
export interface MlpOptions {
  /** Layer widths from input to output, e.g. `[784, 128, 10]`. */
  layers: number[];
  /** Hidden activation. Default `'relu'`. */
  activation?: Activation;
  /** Seed of the weight initialisation, an integer in [0, 2^32).
   * Default 0. */
  seed?: number;
  /** Worker threads of the native engine. Default: the number of CPUs,
   * or `RAYON_NUM_THREADS` when set. */
  threads?: number;
  /** Engine to run on. Default `'auto'`. */
  backend?: Backend;
}

/** One linear layer's parameters. `weight` is `[out][in]` row-major, as
 * PyTorch stores `nn.Linear.weight`. */
export interface LayerWeights {
  weight: Float32Array;
  bias: Float32Array;
  /** `[out, in]`. */
  shape: [number, number];
}

/** SGD settings, with PyTorch's names and defaults. */
export interface SgdOptions {
  /** Learning rate when no schedule is given. Default 0.001, as in PyTorch 2. */
  lr?: number;
  /** Momentum factor, used when the schedule does not cycle momentum.
   * Default 0. */
  momentum?: number;
  /** Dampening of the momentum. Default 0. */
  dampening?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

/** 1cycle settings inside {@link FitOptions}; the step count comes from
 * the run. */
export type FitScheduleOptions = Omit<
  OneCycleOptions,
  'totalSteps' | 'epochs' | 'stepsPerEpoch' | 'lastEpoch' | 'groups' | 'backend'
> & {
  /** Steps in the cycle. Default: epochs times batches per epoch. */
  totalSteps?: number;
};

/** Held-out data evaluated after every epoch. */
export interface ValidationData {
  x: Float32Array;
  y: Targets;
}

/** Options of {@link Mlp.fit}. */
export interface FitOptions {
  /** Passes over the data. */
  epochs: number;
  /** Samples per step. Default 32. */
  batchSize?: number;
  /** Default: `cross_entropy` for integer labels, `mse` for floats. */
  loss?: Loss;
  optimizer?: SgdOptions;
  /** 1cycle schedule, stepped once per batch; `null` or absent keeps
   * `optimizer.lr` constant. */
  schedule?: FitScheduleOptions | null;
  /** Shuffle the sample order at every epoch. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle, an integer in [0, 2^32). Default 0. */
  seed?: number;
  /** Skip the last batch of an epoch when it is short. Default false. */
  dropLast?: boolean;
  validation?: ValidationData;
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord) => void;
  /** Stops training; the promise rejects with an `AbortError` and the
   * model keeps its weights from before `fit`. */
  signal?: AbortSignal;
  /** Keep the learning rate, momentum and loss of every step. Default
   * false. */
  recordSteps?: boolean;
}

/** The summary of one epoch. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Sample-weighted mean of the batch losses. */
  loss: number;
  valLoss?: number;
  /** Fraction correct on the validation data, for the classification
   * losses. */
  valAccuracy?: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Momentum of the epoch's last step. */
  momentum: number;
  seconds: number;
  samplesPerSecond: number;
}

/** Per-step values, when `recordSteps` is on. */
export interface StepRecords {
  lr: Float64Array;
  momentum: Float64Array;
  loss: Float64Array;
}

/** The result of {@link Mlp.fit}. */
export interface History {
  epochs: EpochRecord[];
  steps?: StepRecords;
  totalSteps: number;
  seconds: number;
  samplesPerSecond: number;
}

/** The result of {@link Mlp.evaluate}. */
export interface Evaluation {
  loss: number;
  /** `null` for `mse`. */
  accuracy: number | null;
}
