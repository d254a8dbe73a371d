'use strict';

/**
 * Seeded generator for benchmark data (mulberry32), so every run and every
 * engine trains on the same inputs. Independent of the library's own
 * generator.
 */
class BenchRng {
  constructor(seed) {
    this.state = seed >>> 0;
  }

  /** Uniform float in [0, 1). */
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal sample (Box-Muller). */
  normal() {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }
}

module.exports = { BenchRng };
