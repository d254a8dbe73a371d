import { describe, expect, it } from 'vitest';
import { Mlp, type LayerWeights, type Loss } from '../ts/index';
import { BACKENDS, firstMismatch, loadGolden, relativeNorm } from './golden';

/** PyTorch's float32 run and ours perform the same operations per step but
 * sum products in different orders. Over these short runs the rounding
 * differences stay far below 1e-5 relative. */
const LOSS_TOLERANCE = 1e-5;
const WEIGHT_TOLERANCE = 1e-5;
/** The schedule values are f64 arithmetic in PyTorch's order. */
const SCHEDULE_TOLERANCE = 1e-12;

const golden = loadGolden('torch_training.json');
type Case = (typeof golden.cases)[number];

function toLayers(layers: { weight: number[][]; bias: number[] }[]): LayerWeights[] {
  return layers.map(({ weight, bias }) => ({
    weight: Float32Array.from(weight.flat()),
    bias: Float32Array.from(bias),
    shape: [weight.length, weight[0].length],
  }));
}

function data(c: Case) {
  const x = Float32Array.from(c.float64.X.flat() as number[]);
  const y =
    c.config.loss === 'cross_entropy'
      ? Int32Array.from(c.float64.y as number[])
      : Float32Array.from((c.float64.y as number[][]).flat());
  return { x, y };
}

async function replay(c: Case, backend: (typeof BACKENDS)[number]) {
  const { config } = c;
  const model = new Mlp({ layers: config.sizes, activation: config.activation, backend });
  model.setWeights(toLayers(c.float64.init));
  const { x, y } = data(c);
  const s = config.schedule;
  const history = await model.fit(x, y, {
    epochs: config.epochs,
    batchSize: config.batch_size,
    loss: config.loss as Loss,
    dropLast: config.drop_last,
    shuffle: false,
    recordSteps: true,
    optimizer: {
      momentum: config.optimizer.momentum,
      dampening: config.optimizer.dampening,
      nesterov: config.optimizer.nesterov,
      weightDecay: config.optimizer.weight_decay,
    },
    schedule: {
      maxLr: s.max_lr,
      pctStart: s.pct_start,
      annealStrategy: s.anneal_strategy,
      cycleMomentum: s.cycle_momentum,
      baseMomentum: s.base_momentum,
      maxMomentum: s.max_momentum,
      divFactor: s.div_factor,
      finalDivFactor: s.final_div_factor,
      threePhase: s.three_phase,
    },
  });
  return { model, history };
}

describe.each(BACKENDS)('Mlp.fit on the %s engine against PyTorch', (backend) => {
  it.each(golden.cases.map((c: Case) => [c.config.name, c]))('replays %s', async (name, c) => {
    const { model, history } = await replay(c, backend);
    const steps = c.float32.steps as { lr: number; momentum: number; loss: number }[];
    const { lr, momentum, loss } = history.steps!;
    expect(lr).toHaveLength(steps.length);

    const lrMismatch = firstMismatch(lr, steps.map((s) => s.lr), SCHEDULE_TOLERANCE);
    expect(lrMismatch, `${name} lr`).toBeNull();
    const momentumMismatch = firstMismatch(momentum, steps.map((s) => s.momentum), SCHEDULE_TOLERANCE);
    expect(momentumMismatch, `${name} momentum`).toBeNull();
    const lossMismatch = firstMismatch(loss, steps.map((s) => s.loss), LOSS_TOLERANCE);
    expect(lossMismatch, `${name} loss`).toBeNull();

    const final = toLayers(c.float32.final);
    model.getWeights().forEach((layer, l) => {
      const weightError = relativeNorm(layer.weight, final[l].weight);
      expect(weightError, `${name} layer ${l} weight`).toBeLessThan(WEIGHT_TOLERANCE);
      const biasError = relativeNorm(layer.bias, final[l].bias);
      expect(biasError, `${name} layer ${l} bias`).toBeLessThan(WEIGHT_TOLERANCE);
    });
  });
});
