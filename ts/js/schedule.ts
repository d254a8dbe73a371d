import type { ResolvedSchedule, ScheduleEngine } from '../engine';
import type { OneCycleState, ScheduleArrays } from '../types';

type LrPoint = 'initial' | 'max' | 'min';
type MomentumPoint = 'base' | 'max';

/** One phase of the cycle, ending at the fractional step `endStep`. */
interface Phase {
  endStep: number;
  startLr: LrPoint;
  endLr: LrPoint;
  startMomentum: MomentumPoint;
  endMomentum: MomentumPoint;
}

/** Learning-rate and momentum bounds of one parameter group. */
interface GroupBounds {
  initial: number;
  max: number;
  min: number;
  baseMomentum: number;
  maxMomentum: number;
}

/** Builds PyTorch's phases: the rise ends at `pctStart * totalSteps - 1`,
 * the optional fall at `2 * pctStart * totalSteps - 2`, and the last
 * phase at `totalSteps - 1`. */
function buildPhases(pctStart: number, totalSteps: number, threePhase: boolean): Phase[] {
  const rise: Phase = {
    endStep: pctStart * totalSteps - 1,
    startLr: 'initial',
    endLr: 'max',
    startMomentum: 'max',
    endMomentum: 'base',
  };
  if (!threePhase) {
    return [
      rise,
      {
        endStep: totalSteps - 1,
        startLr: 'max',
        endLr: 'min',
        startMomentum: 'base',
        endMomentum: 'max',
      },
    ];
  }
  return [
    rise,
    {
      endStep: 2 * pctStart * totalSteps - 2,
      startLr: 'max',
      endLr: 'initial',
      startMomentum: 'base',
      endMomentum: 'max',
    },
    {
      endStep: totalSteps - 1,
      startLr: 'initial',
      endLr: 'min',
      startMomentum: 'max',
      endMomentum: 'max',
    },
  ];
}

function lrBound(bounds: GroupBounds, point: LrPoint): number {
  switch (point) {
    case 'initial':
      return bounds.initial;
    case 'max':
      return bounds.max;
    case 'min':
      return bounds.min;
  }
}

function momentumBound(bounds: GroupBounds, point: MomentumPoint): number {
  return point === 'base' ? bounds.baseMomentum : bounds.maxMomentum;
}

/** Cosine annealing from `start` to `end`, in PyTorch's operation order. */
function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2) * cosOut;
}

/** Linear annealing from `start` to `end`, in PyTorch's operation order. */
function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

/**
 * PyTorch's `OneCycleLR` on the TypeScript engine, with the same f64
 * arithmetic in the same order, so values equal PyTorch's at every index
 * `0 .. totalSteps - 1`.
 *
 * The index is PyTorch's `last_epoch`: construction sets it to
 * `lastEpoch + 1` and each `step()` adds one. Where PyTorch fails, this
 * class differs:
 * - a phase of zero width takes its end value (`pct = 1`) where PyTorch
 *   divides by zero;
 * - index `totalSteps` repeats the value at `totalSteps - 1`, where
 *   PyTorch extrapolates past the cycle;
 * - a step past index `totalSteps` throws and changes nothing.
 */
export class JsScheduleEngine implements ScheduleEngine {
  readonly #options: ResolvedSchedule;
  readonly #phases: Phase[];
  readonly #bounds: GroupBounds[];
  readonly #anneal: (start: number, end: number, pct: number) => number;
  #index: number;
  #lr: number[] = [];
  #momentum: number[] | null = null;

  constructor(options: ResolvedSchedule) {
    this.#options = options;
    this.#phases = buildPhases(options.pctStart, options.totalSteps, options.threePhase);
    this.#bounds = options.maxLr.map((maxLr, group) => {
      const initial = maxLr / options.divFactor;
      return {
        initial,
        max: maxLr,
        min: initial / options.finalDivFactor,
        baseMomentum: options.baseMomentum[group],
        maxMomentum: options.maxMomentum[group],
      };
    });
    this.#anneal = options.annealStrategy === 'cos' ? annealCos : annealLinear;
    this.#index = options.lastEpoch + 1;
    this.#updateCurrentValues();
  }

  /** Moves to the next index. Throws an `Error` and changes nothing when
   * the schedule is already at index `totalSteps`. */
  step(): void {
    const total = this.#options.totalSteps;
    if (this.#index >= total) {
      throw new Error(
        `OneCycleLR.step() was called ${this.#index + 1} times, but totalSteps is ` +
          `${total}, so the schedule has no value for step ${this.#index + 1}. Set ` +
          'totalSteps (or epochs * stepsPerEpoch) to at least the number of optimizer ' +
          'steps in the run.',
      );
    }
    this.#index += 1;
    this.#updateCurrentValues();
  }

  lastLr(): number[] {
    return [...this.#lr];
  }

  lastMomentum(): number[] | null {
    return this.#momentum === null ? null : [...this.#momentum];
  }

  lastEpoch(): number {
    return this.#index;
  }

  totalSteps(): number {
    return this.#options.totalSteps;
  }

  /** Computes the learning rate of `group` at index `t`. Indices past
   * `totalSteps - 1` give the final value. */
  lrAt(t: number, group: number): number {
    const { phase, pct } = this.#locate(t);
    return this.#lrAt(phase, pct, group);
  }

  /** Computes the momentum of `group` at index `t`, or returns null when
   * momentum does not cycle. Indices past `totalSteps - 1` give the final
   * value. */
  momentumAt(t: number, group: number): number | null {
    if (!this.#options.cycleMomentum) return null;
    const { phase, pct } = this.#locate(t);
    return this.#momentumAt(phase, pct, group);
  }

  /** Returns every group's learning rate (and momentum, when it cycles) at
   * the indices `0 .. totalSteps - 1`. */
  arrays(): ScheduleArrays {
    const total = this.#options.totalSteps;
    const lr = this.#bounds.map(() => new Float64Array(total));
    const momentum = this.#options.cycleMomentum
      ? this.#bounds.map(() => new Float64Array(total))
      : null;
    for (let t = 0; t < total; t++) {
      const { phase, pct } = this.#locate(t);
      for (let group = 0; group < this.#bounds.length; group++) {
        lr[group][t] = this.#lrAt(phase, pct, group);
        if (momentum !== null) {
          momentum[group][t] = this.#momentumAt(phase, pct, group);
        }
      }
    }
    return { lr, momentum };
  }

  state(): OneCycleState {
    const options = this.#options;
    return {
      totalSteps: options.totalSteps,
      maxLr: [...options.maxLr],
      pctStart: options.pctStart,
      annealStrategy: options.annealStrategy,
      cycleMomentum: options.cycleMomentum,
      baseMomentum: [...options.baseMomentum],
      maxMomentum: [...options.maxMomentum],
      divFactor: options.divFactor,
      finalDivFactor: options.finalDivFactor,
      threePhase: options.threePhase,
      lastEpoch: this.#index,
    };
  }

  /** Finds the phase of index `t` with PyTorch's rule (the first phase
   * whose end step is at or after `t`, else the last phase) and the
   * fraction of that phase done at `t`. Indices past `totalSteps - 1`
   * resolve to `totalSteps - 1`. */
  #locate(t: number): { phase: Phase; pct: number } {
    const step = Math.min(t, this.#options.totalSteps - 1);
    const phases = this.#phases;
    let startStep = 0;
    for (let i = 0; i < phases.length; i++) {
      const phase = phases[i];
      if (step <= phase.endStep || i === phases.length - 1) {
        const width = phase.endStep - startStep;
        // A zero-width phase ends where it starts, so the step takes the
        // phase's end value; PyTorch raises ZeroDivisionError here.
        const pct = width === 0 ? 1 : (step - startStep) / width;
        return { phase, pct };
      }
      startStep = phase.endStep;
    }
    throw new Error('unreachable: the last phase always matches');
  }

  #lrAt(phase: Phase, pct: number, group: number): number {
    const bounds = this.#bounds[group];
    return this.#anneal(lrBound(bounds, phase.startLr), lrBound(bounds, phase.endLr), pct);
  }

  #momentumAt(phase: Phase, pct: number, group: number): number {
    const bounds = this.#bounds[group];
    const start = momentumBound(bounds, phase.startMomentum);
    return this.#anneal(start, momentumBound(bounds, phase.endMomentum), pct);
  }

  #updateCurrentValues(): void {
    const { phase, pct } = this.#locate(this.#index);
    this.#lr = this.#bounds.map((_, group) => this.#lrAt(phase, pct, group));
    this.#momentum = this.#options.cycleMomentum
      ? this.#bounds.map((_, group) => this.#momentumAt(phase, pct, group))
      : null;
  }
}
