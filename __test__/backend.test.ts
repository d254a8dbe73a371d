import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Mlp, nativeAvailable, OneCycleLR } from '../ts/index';

const built = resolve(__dirname, '../dist/index.js');

/** Runs a script against the built package with the native binary path
 * pointed at a missing file, as on a platform without a prebuilt binary. */
function withoutBinary(script: string) {
  return spawnSync(process.execPath, ['-e', `const onecycle = require(${JSON.stringify(built)});\n${script}`], {
    env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/onecycle.node' },
    encoding: 'utf8',
  });
}

describe('backend selection', () => {
  it('uses the native engine by default where it loads', () => {
    expect(nativeAvailable()).toBe(true);
    expect(new Mlp({ layers: [2, 1] }).backend).toBe('native');
    expect(new OneCycleLR({ maxLr: 0.1, totalSteps: 5 }).backend).toBe('native');
    expect(new Mlp({ layers: [2, 1], backend: 'js' }).backend).toBe('js');
  });

  it('falls back to TypeScript with one warning when the binary is missing', () => {
    const result = withoutBinary(`
      const a = new onecycle.Mlp({ layers: [2, 1] });
      const b = new onecycle.OneCycleLR({ maxLr: 0.1, totalSteps: 5 });
      console.log(a.backend, b.backend);
    `);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('js js');
    const warnings = result.stderr.match(/ONECYCLE_NO_NATIVE/g) ?? [];
    expect(warnings).toHaveLength(1);
    expect(result.stderr).toMatch(/did not load \(.+\); training runs on the slower TypeScript engine/);
  });

  it('throws for backend native when the binary is missing', () => {
    const result = withoutBinary(`
      try { new onecycle.Mlp({ layers: [2, 1], backend: 'native' }); }
      catch (error) { console.log(error.message); }
    `);
    expect(result.stdout).toMatch(/native onecycle binary did not load.*backend: 'js'/);
  });

  it('rejects an unknown backend name', () => {
    expect(() => new Mlp({ layers: [2, 1], backend: 'gpu' as never })).toThrow(/backend must be .*got "gpu"/);
  });
});
