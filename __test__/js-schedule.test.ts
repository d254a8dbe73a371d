import { describe, expect, it } from 'vitest';
import type { ResolvedSchedule } from '../ts/engine';
import { JsScheduleEngine } from '../ts/js/schedule';
import type { OneCycleOptions } from '../ts/types';
import { resolveOneCycle } from '../ts/validate';
import { firstMismatch, loadGolden, scheduleOptions } from './golden';

/** The engine repeats PyTorch's f64 operations in PyTorch's order, so only
 * the platform's cos may differ, by an ulp or two. */
const TOLERANCE = 1e-12;

const golden = loadGolden('torch_onecycle.json');
type Config = (typeof golden.configs)[number];
type Sequence = Record<string, number[][]>;

function build(options: OneCycleOptions): JsScheduleEngine {
  return new JsScheduleEngine(resolveOneCycle(options));
}

/** Returns the field PyTorch cycled (`momentum`, or `beta1` for Adam), or
 * null when momentum does not cycle. */
function momentumField(config: Config): string | null {
  if (config.scheduler_kwargs.cycle_momentum === false) return null;
  return 'momentum' in config.sequence ? 'momentum' : 'beta1';
}

/** Steps `schedule` through `count` indices from its current one and
 * collects each group's learning rate and momentum. */
function collect(schedule: JsScheduleEngine, count: number) {
  const groups = schedule.lastLr().length;
  const lr: number[][] = Array.from({ length: groups }, () => []);
  const momentum: number[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < count; i++) {
    if (i > 0) schedule.step();
    schedule.lastLr().forEach((value, g) => lr[g].push(value));
    schedule.lastMomentum()?.forEach((value, g) => momentum[g].push(value));
  }
  return { lr, momentum };
}

function expectSequence(actual: number[][], expected: number[][], label: string): void {
  expected.forEach((values, group) => {
    const mismatch = firstMismatch(actual[group], values.slice(0, actual[group].length), TOLERANCE);
    expect(mismatch, `${label}[${group}]`).toBeNull();
  });
}

/** Steps to index `totalSteps`, which must hold the final value, and checks
 * that one more step throws and changes nothing. */
function expectHeldThenRejected(schedule: JsScheduleEngine): void {
  const total = schedule.totalSteps();
  while (schedule.lastEpoch() < total - 1) schedule.step();
  const finalLr = schedule.lastLr();
  const finalMomentum = schedule.lastMomentum();
  schedule.step();
  expect(schedule.lastEpoch()).toBe(total);
  expect(schedule.lastLr()).toEqual(finalLr);
  expect(schedule.lastMomentum()).toEqual(finalMomentum);

  expect(() => schedule.step()).toThrow(
    new RegExp(`called ${total + 1} times, but totalSteps is ${total}\\b.*Set totalSteps`),
  );
  expect(schedule.lastEpoch()).toBe(total);
  expect(schedule.lastLr()).toEqual(finalLr);
}

function expectAllFinite(schedule: JsScheduleEngine, label: string): void {
  const { lr, momentum } = schedule.arrays();
  for (const values of [...lr, ...(momentum ?? [])]) {
    const bad = values.findIndex((value) => !Number.isFinite(value));
    expect(bad, `${label}: index ${bad} is ${values[bad]}`).toBe(-1);
  }
}

/** Labels each config with its id, for `it.each`. */
function byId(configs: Config[]): [string, Config][] {
  return configs.map((config) => [config.id, config]);
}

const constructed = golden.configs.filter((c: Config) => !c.resume && c.construct.ok);
const failed = golden.configs.filter((c: Config) => !c.resume && !c.construct.ok);
const resumed = golden.configs.filter((c: Config) => c.resume);

/** PyTorch accepts `total_steps=True` as 1; ours takes numbers only. */
const REJECTED_TYPES = new Set(['total_bool_true']);

describe('JsScheduleEngine against PyTorch', () => {
  it.each(byId(constructed.filter((c: Config) => !REJECTED_TYPES.has(c.id))))(
    '%s matches every trained index',
    (_id, config) => {
      const schedule = build(scheduleOptions(config));
      const total = schedule.totalSteps();
      expect(total).toBe(config.derived.total_steps);

      // Index total_steps is PyTorch's extrapolation, which no batch uses.
      const count = Math.min(config.steps_completed + 1, total);
      const { lr, momentum } = collect(schedule, count);
      expectSequence(lr, config.sequence.lr, 'lr');
      const field = momentumField(config);
      if (field === null) {
        expect(schedule.lastMomentum()).toBeNull();
      } else {
        expectSequence(momentum, config.sequence[field], field);
      }
    },
  );

  it.each(byId(constructed.filter((c: Config) => !REJECTED_TYPES.has(c.id))))(
    '%s arrays equal the stepped values',
    (_id, config) => {
      const arrays = build(scheduleOptions(config)).arrays();
      const total = config.derived.total_steps;
      const count = Math.min(config.steps_completed + 1, total);
      expect(arrays.lr[0]).toHaveLength(total);
      expectSequence(
        arrays.lr.map((values) => Array.from(values.subarray(0, count))),
        config.sequence.lr,
        'lr',
      );
      const field = momentumField(config);
      if (field === null) {
        expect(arrays.momentum).toBeNull();
      } else {
        expectSequence(
          arrays.momentum!.map((values) => Array.from(values.subarray(0, count))),
          config.sequence[field],
          field,
        );
      }
    },
  );

  it.each(byId(constructed.filter((c: Config) => !REJECTED_TYPES.has(c.id))))(
    '%s holds its final value, then throws',
    (_id, config) => {
      expectHeldThenRejected(build(scheduleOptions(config)));
    },
  );

  it('rejects totalSteps true, which PyTorch reads as 1', () => {
    const config = golden.configs.find((c: Config) => c.id === 'total_bool_true');
    expect(() => build(scheduleOptions(config))).toThrow(TypeError);
    expect(() => build(scheduleOptions(config))).toThrow(/totalSteps must be a positive integer, got true/);
  });
});

describe('JsScheduleEngine where PyTorch fails to construct', () => {
  const zeroDivision = failed.filter((c: Config) => c.construct.type === 'ZeroDivisionError');

  it.each(byId(zeroDivision.filter((c: Config) => c.scheduler_kwargs.final_div_factor !== 0)))(
    '%s constructs with finite values',
    (id, config) => {
      const schedule = build(scheduleOptions(config));
      expectAllFinite(schedule, id);
      expectHeldThenRejected(schedule);
    },
  );

  it('gives a zero-width first phase its end value', () => {
    // pctStart * totalSteps - 1 = 0, so the rise ends where it starts.
    const schedule = build({ maxLr: 1, totalSteps: 10, pctStart: 0.1 });
    expect(schedule.lastLr()).toEqual([1]);
    expect(schedule.lastMomentum()).toEqual([0.85]);
  });

  it('gives a zero-width last phase its end value', () => {
    const schedule = build({ maxLr: 1, totalSteps: 1, pctStart: 1 });
    expect(schedule.lastLr()).toEqual([1]);
    schedule.step();
    expect(schedule.lastLr()).toEqual([1]);
  });

  // Each remaining PyTorch failure, with our outcome.
  const outcomes: Record<string, () => void> = {
    n10_finaldiv0: () =>
      expect(() => build({ maxLr: 1, totalSteps: 10, finalDivFactor: 0 })).toThrow(
        /finalDivFactor must be a finite number > 0, got 0\./,
      ),
    // JavaScript has one number type, so 0 and 0.0 are the same value,
    // which PyTorch accepts as a float.
    n10_pct_int0: () => expectAllFinite(build({ maxLr: 1, totalSteps: 10, pctStart: 0 }), 'pct 0'),
    n10_pct1_5: () =>
      expect(() => build({ maxLr: 1, totalSteps: 10, pctStart: 1.5 })).toThrow(
        /pctStart must be a number in \[0, 1\], got 1\.5\./,
      ),
    n10_pct30: () =>
      expect(() => build({ maxLr: 1, totalSteps: 10, pctStart: 30 })).toThrow(/got 30\./),
    n10_2groups_mom_len1: () =>
      expect(() => build({ maxLr: [0.1, 0.01], totalSteps: 10, baseMomentum: [0.85] })).toThrow(
        /Expected 2 values for baseMomentum, one per parameter group, got 1\./,
      ),
    // 10.0 is the number 10 in JavaScript.
    total_float: () => expect(build({ maxLr: 0.1, totalSteps: 10.0 }).totalSteps()).toBe(10),
    epochs_only: () =>
      expect(() => build({ maxLr: 0.1, epochs: 3 })).toThrow(
        /stepsPerEpoch is missing: epochs is 3/,
      ),
    anneal_typo: () =>
      expect(() =>
        build({ maxLr: 0.1, totalSteps: 10, annealStrategy: 'cosine' as never }),
      ).toThrow(/annealStrategy must be 'cos' or 'linear', got "cosine"\./),
  };

  it.each(
    byId(
      failed.filter(
        (c: Config) =>
          c.construct.type !== 'ZeroDivisionError' || c.scheduler_kwargs.final_div_factor === 0,
      ),
    ),
  )('%s has a defined outcome', (id) => {
    const outcome = outcomes[id.replace('.', '_')];
    expect(outcome, `no expected outcome for ${id}`).toBeDefined();
    outcome();
  });
});

describe('JsScheduleEngine degenerate matrix', () => {
  const { rows, pct_start_values: pctValues } = golden.degenerate_matrix;
  const cases: [number, number, boolean][] = rows.flatMap(
    (row: { three_phase: boolean; total_steps: number }) =>
      pctValues.map((pct: number): [number, number, boolean] => [row.total_steps, pct, row.three_phase]),
  );

  it.each(cases)('totalSteps %i, pctStart %f, threePhase %s steps to the end', (total, pct, three) => {
    const schedule = build({ maxLr: 1, totalSteps: total, pctStart: pct, threePhase: three });
    for (let t = 0; t < total; t++) {
      const values = [...schedule.lastLr(), ...schedule.lastMomentum()!];
      expect(values.every(Number.isFinite), `index ${t}: ${values}`).toBe(true);
      schedule.step();
    }
    expect(schedule.lastEpoch()).toBe(total);
    expect(() => schedule.step()).toThrow(/totalSteps/);
  });
});

describe('JsScheduleEngine resume', () => {
  /** Builds the resumed schedule the way each golden case resumes. */
  function resume(config: Config): JsScheduleEngine {
    const options = scheduleOptions(config);
    const k = config.resume.split_after_steps;
    switch (config.resume.mode) {
      case 'state_dict': {
        const original = build(options);
        for (let i = 0; i < k; i++) original.step();
        const state = original.state();
        const resolved: ResolvedSchedule = resolveOneCycle({ ...state, lastEpoch: state.lastEpoch - 1 });
        return new JsScheduleEngine(resolved);
      }
      case 'last_epoch_k_minus_1':
      case 'last_epoch_only_initial_lr':
        return build({ ...options, lastEpoch: k - 1 });
      case 'last_epoch_k':
        return build({ ...options, lastEpoch: k });
      default:
        throw new Error(`unknown resume mode ${config.resume.mode}`);
    }
  }

  it.each(byId(resumed))('%s continues the reference', (_id, config) => {
    const schedule = resume(config);
    const total = schedule.totalSteps();
    const reference: Sequence = config.reference_sequence;
    // PyTorch cannot resume from last_epoch without optimizer state; ours
    // continues at index k.
    const start = config.resumed.info.last_epoch_after_resume ?? config.resume.split_after_steps;
    expect(schedule.lastEpoch()).toBe(start);

    const { lr, momentum } = collect(schedule, total - start);
    expectSequence(
      lr,
      reference.lr.map((values) => values.slice(start, total)),
      'lr',
    );
    expectSequence(
      momentum,
      reference.momentum.map((values) => values.slice(start, total)),
      'momentum',
    );
    if (config.resumed.sequence) {
      const count = Math.min(config.resumed.steps_completed + 1, total - start);
      expectSequence(
        lr.map((values) => values.slice(0, count)),
        config.resumed.sequence.lr,
        'resumed lr',
      );
    }
    expectHeldThenRejected(schedule);
  });

  it('state() round-trips every option', () => {
    const options: OneCycleOptions = {
      maxLr: [0.1, 0.02],
      totalSteps: 50,
      pctStart: 0.4,
      annealStrategy: 'linear',
      baseMomentum: 0.8,
      maxMomentum: [0.9, 0.99],
      divFactor: 10,
      finalDivFactor: 100,
      threePhase: true,
    };
    const schedule = build(options);
    for (let i = 0; i < 17; i++) schedule.step();
    const state = schedule.state();
    expect(state.lastEpoch).toBe(17);
    expect(state.baseMomentum).toEqual([0.8, 0.8]);

    const copy = build({ ...state, lastEpoch: state.lastEpoch - 1 });
    expect(copy.lastEpoch()).toBe(17);
    expect(copy.lastLr()).toEqual(schedule.lastLr());
    expect(copy.lastMomentum()).toEqual(schedule.lastMomentum());
    expect(copy.state()).toEqual(state);
  });
});
