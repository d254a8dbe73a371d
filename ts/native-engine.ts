import type { ModelEngine, ResolvedFit, ResolvedSchedule, ScheduleEngine } from './engine';
import type { NativeBinding } from './native';
import type {
  Activation,
  EpochRecord,
  Evaluation,
  History,
  LayerWeights,
  Loss,
  OneCycleState,
  ScheduleArrays,
} from './types';
import { abortError } from './abort';

type NativeOneCycle = InstanceType<NativeBinding['NativeOneCycle']>;
type NativeMlp = InstanceType<NativeBinding['NativeMlp']>;
type EpochReport = Parameters<NonNullable<Parameters<NativeMlp['fit']>[3]>>[0];

function scheduleConfig(schedule: ResolvedSchedule) {
  return { ...schedule, annealStrategy: schedule.annealStrategy as string };
}

/** `ScheduleEngine` over the Rust core. */
export class NativeScheduleEngine implements ScheduleEngine {
  readonly #native: NativeOneCycle;
  readonly #resolved: ResolvedSchedule;

  constructor(binding: NativeBinding, resolved: ResolvedSchedule) {
    this.#native = new binding.NativeOneCycle(scheduleConfig(resolved));
    this.#resolved = resolved;
  }

  step(): void {
    this.#native.step();
  }

  lastLr(): number[] {
    return this.#native.lastLr();
  }

  lastMomentum(): number[] | null {
    return this.#native.lastMomentum() ?? null;
  }

  lastEpoch(): number {
    return this.#native.lastEpoch();
  }

  totalSteps(): number {
    return this.#native.totalSteps();
  }

  arrays(): ScheduleArrays {
    const groups = this.#resolved.maxLr.map((_, group) => group);
    const lr = groups.map((group) => this.#native.lrArray(group));
    const momentum = this.#resolved.cycleMomentum
      ? groups.map((group) => this.#native.momentumArray(group)!)
      : null;
    return { lr, momentum };
  }

  state(): OneCycleState {
    const { lastEpoch: _initial, ...options } = this.#resolved;
    return { ...options, lastEpoch: this.lastEpoch() };
  }
}

function epochRecord(report: EpochReport): EpochRecord {
  const record: EpochRecord = {
    epoch: report.epoch,
    loss: report.loss,
    lr: report.lr,
    momentum: report.momentum,
    seconds: report.seconds,
    samplesPerSecond: report.samplesPerSecond,
  };
  if (report.valLoss != null) record.valLoss = report.valLoss;
  if (report.valAccuracy != null) record.valAccuracy = report.valAccuracy;
  return record;
}

function dataSet(x: Float32Array, rows: number, y: Float32Array | Int32Array) {
  return y instanceof Int32Array ? { x, rows, classes: y } : { x, rows, values: y };
}

/** `ModelEngine` over the Rust core. Training runs on a libuv worker
 * thread, so the event loop keeps turning. */
export class NativeModelEngine implements ModelEngine {
  readonly #binding: NativeBinding;
  readonly #native: NativeMlp;
  readonly layers: readonly number[];
  readonly activation: Activation;

  constructor(
    binding: NativeBinding,
    layers: readonly number[],
    activation: Activation,
    seed: number,
    threads: number | undefined,
  ) {
    this.#binding = binding;
    this.#native = new binding.NativeMlp([...layers], activation, seed, threads);
    this.layers = layers;
    this.activation = activation;
  }

  predict(x: Float32Array, rows: number): Float32Array {
    return this.#native.predict(x, rows);
  }

  evaluate(x: Float32Array, rows: number, y: Float32Array | Int32Array, loss: Loss): Evaluation {
    const report = this.#native.evaluate(dataSet(x, rows, y), loss);
    return { loss: report.loss, accuracy: report.accuracy ?? null };
  }

  getWeights(): LayerWeights[] {
    return this.#native.getWeights().map((layer) => ({
      weight: layer.weight,
      bias: layer.bias,
      shape: [layer.rows, layer.cols],
    }));
  }

  setWeights(weights: LayerWeights[]): void {
    this.#native.setWeights(
      weights.map((layer) => ({
        weight: layer.weight,
        bias: layer.bias,
        rows: layer.shape[0],
        cols: layer.shape[1],
      })),
    );
  }

  async fit(
    x: Float32Array,
    rows: number,
    y: Float32Array | Int32Array,
    options: ResolvedFit,
    onEpoch?: (record: EpochRecord) => void,
    signal?: AbortSignal,
  ): Promise<History> {
    if (signal?.aborted) throw abortError(signal);
    const token = new this.#binding.CancelToken();
    const cancel = () => token.cancel();
    signal?.addEventListener('abort', cancel, { once: true });

    // The binding posts epoch reports from the worker thread, and they may
    // arrive after the promise settles. Each epoch is delivered once, in
    // order, from whichever comes first. An error thrown by onEpoch stops
    // the run and becomes its rejection.
    let delivered = 0;
    const callback: { failed: boolean; error?: unknown } = { failed: false };
    const deliver = (report: EpochReport) => {
      if (!onEpoch || callback.failed || report.epoch !== delivered + 1) return;
      delivered = report.epoch;
      try {
        onEpoch(epochRecord(report));
      } catch (error) {
        Object.assign(callback, { failed: true, error });
        token.cancel();
      }
    };

    const { validation, schedule, ...rest } = options;
    const config = { ...rest, schedule: schedule ? scheduleConfig(schedule) : undefined };
    try {
      const report = await this.#native.fit(
        dataSet(x, rows, y),
        config,
        validation ? dataSet(validation.x, validation.rows, validation.y) : undefined,
        onEpoch ? deliver : undefined,
        token,
      );
      report.epochs.forEach(deliver);
      if (callback.failed) throw callback.error;
      const history: History = {
        epochs: report.epochs.map(epochRecord),
        totalSteps: report.totalSteps,
        seconds: report.seconds,
        samplesPerSecond: report.samplesPerSecond,
      };
      if (report.stepLr && report.stepMomentum && report.stepLoss) {
        history.steps = {
          lr: report.stepLr,
          momentum: report.stepMomentum,
          loss: report.stepLoss,
        };
      }
      return history;
    } catch (error) {
      if (callback.failed) throw callback.error;
      if (token.cancelled && signal) throw abortError(signal);
      throw error;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }
}
