import type {
  AnnealStrategy,
  EpochRecord,
  Evaluation,
  History,
  LayerWeights,
  Activation,
  Loss,
  OneCycleState,
  ScheduleArrays,
} from './types';

/** Schedule options after validation: every default filled in and every
 * per-group list expanded to the group count. */
export interface ResolvedSchedule {
  maxLr: number[];
  totalSteps: number;
  pctStart: number;
  annealStrategy: AnnealStrategy;
  cycleMomentum: boolean;
  baseMomentum: number[];
  maxMomentum: number[];
  divFactor: number;
  finalDivFactor: number;
  threePhase: boolean;
  lastEpoch: number;
}

/** The interface each engine implements for `OneCycleLR`. */
export interface ScheduleEngine {
  step(): void;
  lastLr(): number[];
  lastMomentum(): number[] | null;
  lastEpoch(): number;
  totalSteps(): number;
  arrays(): ScheduleArrays;
  state(): OneCycleState;
}

/** Fit options after validation. Data lengths are checked against the
 * layer sizes; labels are `Int32Array` for `cross_entropy`. */
export interface ResolvedFit {
  epochs: number;
  batchSize: number;
  loss: Loss;
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** `totalSteps` is filled in from the run when the user left it out. */
  schedule: ResolvedSchedule | null;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
  validation: { x: Float32Array; rows: number; y: Float32Array | Int32Array } | null;
  recordSteps: boolean;
}

/** The interface each engine implements for `Mlp`. */
export interface ModelEngine {
  readonly layers: readonly number[];
  readonly activation: Activation;
  predict(x: Float32Array, rows: number): Float32Array;
  evaluate(
    x: Float32Array,
    rows: number,
    y: Float32Array | Int32Array,
    loss: Loss,
  ): Evaluation;
  getWeights(): LayerWeights[];
  setWeights(weights: LayerWeights[]): void;
  fit(
    x: Float32Array,
    rows: number,
    y: Float32Array | Int32Array,
    options: ResolvedFit,
    onEpoch?: (record: EpochRecord) => void,
    signal?: AbortSignal,
  ): Promise<History>;
}
