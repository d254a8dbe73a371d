import type { ScheduleEngine } from './engine';
import { JsScheduleEngine } from './js/schedule';
import { loadNative, resolveBackend } from './native';
import { NativeScheduleEngine } from './native-engine';
import type { Backend, OneCycleOptions, OneCycleState, ScheduleArrays } from './types';
import { resolveOneCycle } from './validate';

/** Maximum schedule length that {@link OneCycleLR.getSchedule} returns as
 * arrays, 2^27 steps (1 GiB of float64 per array). */
const MAX_SCHEDULE_ARRAY = 2 ** 27;

/**
 * PyTorch's `OneCycleLR`: the learning rate rises from `maxLr / divFactor`
 * to `maxLr` over the first `pctStart` of the steps, then anneals to
 * `maxLr / divFactor / finalDivFactor`, while momentum moves the opposite
 * way between `maxMomentum` and `baseMomentum`. Call {@link step} once per
 * batch.
 *
 * Values equal PyTorch's at every index a batch trains with. Where PyTorch
 * differs:
 * - a phase of zero length (for example `pctStart * totalSteps === 1`,
 *   or `pctStart === 1`) takes its end value where PyTorch divides by zero;
 * - after the last of the `totalSteps` calls to {@link step}, the schedule
 *   keeps its final value where PyTorch extrapolates past the cycle, and
 *   one more call throws instead of failing later;
 * - resuming with `lastEpoch` needs no optimizer state;
 * - `finalDivFactor` or `divFactor` of 0, negative rates and non-finite
 *   values are rejected with an error that names the option.
 */
export class OneCycleLR {
  /** The engine running this schedule. */
  readonly backend: 'js' | 'native';
  readonly #engine: ScheduleEngine;
  /** Cached so that a step crosses into the engine once. */
  readonly #totalSteps: number;
  #index: number;
  #calls = 0;

  constructor(options: OneCycleOptions) {
    const resolved = resolveOneCycle(options);
    this.backend = resolveBackend(options.backend);
    const binding = this.backend === 'native' ? loadNative() : null;
    this.#engine = binding
      ? new NativeScheduleEngine(binding, resolved)
      : new JsScheduleEngine(resolved);
    this.#totalSteps = this.#engine.totalSteps();
    this.#index = this.#engine.lastEpoch();
  }

  /** Rebuilds a schedule from {@link state}, like PyTorch's
   * `load_state_dict`. */
  static fromState(state: OneCycleState, backend: Backend = 'auto'): OneCycleLR {
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(`state must be an object from OneCycleLR.state(), got ${state}.`);
    }
    const { lastEpoch, totalSteps } = state;
    if (typeof lastEpoch !== 'number' || !Number.isInteger(lastEpoch) || lastEpoch < 0) {
      throw new RangeError(
        `state.lastEpoch must be an integer in [0, totalSteps], got ${JSON.stringify(lastEpoch)}.`,
      );
    }
    if (typeof totalSteps === 'number' && lastEpoch > totalSteps) {
      throw new RangeError(
        `state.lastEpoch must be an integer in [0, ${totalSteps}], got ${lastEpoch}.`,
      );
    }
    return new OneCycleLR({ ...state, lastEpoch: state.lastEpoch - 1, backend });
  }

  /** Moves to the next step. Call it after every optimizer step,
   * `totalSteps` times in all. */
  step(): void {
    const total = this.#totalSteps;
    if (this.#index >= total) {
      this.#calls += 1;
      throw new RangeError(
        `OneCycleLR.step() was called ${total + this.#calls} times for a schedule of ` +
          `${total} steps. Set totalSteps (or epochs * stepsPerEpoch) to the number of ` +
          'optimizer steps in the run, and call step() once per batch.',
      );
    }
    this.#engine.step();
    this.#index += 1;
  }

  /** Learning rate of each parameter group at the current step. */
  getLastLr(): number[] {
    return this.#engine.lastLr();
  }

  /** Momentum of each parameter group at the current step, or `null` when
   * `cycleMomentum` is false. */
  getLastMomentum(): number[] | null {
    return this.#engine.lastMomentum();
  }

  /** PyTorch's `last_epoch`: the current step index, 0 after construction. */
  get lastEpoch(): number {
    return this.#index;
  }

  /** Number of steps in the cycle. */
  get totalSteps(): number {
    return this.#totalSteps;
  }

  /** Returns the learning rate and momentum at every step index `0 .. totalSteps - 1`,
   * for previews and plots. */
  getSchedule(): ScheduleArrays {
    if (this.#totalSteps > MAX_SCHEDULE_ARRAY) {
      throw new RangeError(
        `getSchedule() returns arrays of totalSteps values, but totalSteps is ${this.#totalSteps}, ` +
          `more than ${MAX_SCHEDULE_ARRAY}; read values with step() and getLastLr() instead.`,
      );
    }
    return this.#engine.arrays();
  }

  /** Returns the schedule's complete state, for {@link OneCycleLR.fromState}. */
  state(): OneCycleState {
    return this.#engine.state();
  }
}
