import { describe, expect, it } from 'vitest';
import { activate, activationBackward } from '../ts/js/activation';
import { erf } from '../ts/js/erf';
import type { Activation } from '../ts/types';

/** erf from glibc's libm, printed by Python's math.erf, one per branch of
 * fdlibm's range split. */
const ERF_REFERENCE: [number, number][] = [
  [1e-10, 1.1283791670955126e-10],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [0.84375, 0.7672256612323416],
  [1.0, 0.8427007929497149],
  [1.25, 0.9229001282564582],
  [1.5, 0.9661051464753108],
  [2.0, 0.9953222650189527],
  [2.857, 0.9999466417399131],
  [3.0, 0.9999779095030014],
  [4.0, 0.9999999845827421],
  [5.9, 0.9999999999999999],
  [6.0, 1.0],
];

/** fdlibm states an error below 1 ulp and glibc is within 1 ulp too, so
 * the two may differ by 2 ulp: 2 * 2^-52 relative. */
const ERF_TOLERANCE = 2 * 2 ** -52;

function run(activation: Activation, inputs: number[]) {
  const z = Float32Array.from(inputs);
  const out = new Float32Array(z.length);
  activate(activation, z, out, z.length);
  const grad = new Float32Array(z.length).fill(1);
  activationBackward(activation, z, out, grad, z.length);
  return { out: Array.from(out), grad: Array.from(grad) };
}

describe('erf', () => {
  it.each(ERF_REFERENCE)('erf(%f) is within 2 ulp of glibc', (x, expected) => {
    const actual = erf(x);
    expect(Math.abs(actual - expected) / expected, `got ${actual}`).toBeLessThanOrEqual(ERF_TOLERANCE);
    expect(erf(-x)).toBe(-actual);
  });

  it('handles zero, infinities and NaN', () => {
    expect(erf(0)).toBe(0);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    expect(erf(5e-324)).toBeGreaterThan(0);
  });
});

describe('activations', () => {
  it('relu has derivative 0 at 0', () => {
    expect(run('relu', [-2, 0, 3])).toEqual({ out: [0, 0, 3], grad: [0, 0, 1] });
  });

  it('leaky_relu uses the float32 slope 0.01, also at 0', () => {
    const slope = Math.fround(0.01);
    const { out, grad } = run('leaky_relu', [-2, 0, 3]);
    expect(out).toEqual([Math.fround(-2 * slope), 0, 3]);
    expect(grad).toEqual([slope, slope, 1]);
  });

  it('tanh and sigmoid take the derivative from the output', () => {
    const tanh = run('tanh', [0.5]);
    expect(tanh.out[0]).toBe(Math.fround(Math.tanh(0.5)));
    expect(tanh.grad[0]).toBe(Math.fround(1 - tanh.out[0] ** 2));
    const sigmoid = run('sigmoid', [-1]);
    expect(sigmoid.out[0]).toBe(Math.fround(1 / (1 + Math.exp(1))));
    expect(sigmoid.grad[0]).toBe(Math.fround((1 - sigmoid.out[0]) * sigmoid.out[0]));
  });

  it('gelu is the exact erf form', () => {
    // Φ(1) = 0.5 * (1 + erf(1 / sqrt 2)) and φ(1) = exp(-1/2) / sqrt(2π).
    const cdf = 0.8413447460685429;
    const pdf = 0.24197072451914337;
    const { out, grad } = run('gelu', [1, 0]);
    expect(out[0]).toBe(Math.fround(cdf));
    expect(grad[0]).toBeCloseTo(cdf + pdf, 6);
    expect(out[1]).toBe(0);
    expect(grad[1]).toBe(0.5);
  });

  it('identity passes values and gradients through', () => {
    expect(run('identity', [-1.5, 2])).toEqual({ out: [-1.5, 2], grad: [1, 1] });
  });
});
