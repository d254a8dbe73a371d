import type { Backend } from './types';

/** The classes that the native binding exports (see `index.d.ts`). */
export type NativeBinding = typeof import('../index');

let binding: NativeBinding | null | undefined;
let loadFailure: Error | null = null;
let warned = false;

/** Loads the native binding once; returns `null` when no binary for this
 * platform loads. */
export function loadNative(): NativeBinding | null {
  if (binding === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require('../index.js') as NativeBinding;
    } catch (error) {
      binding = null;
      loadFailure = error instanceof Error ? error : new Error(String(error));
    }
  }
  return binding;
}

/** Returns whether the native engine loads on this platform. */
export function nativeAvailable(): boolean {
  return loadNative() !== null;
}

/**
 * Picks the engine for a requested backend: `native` throws when the binary
 * does not load, and `auto` falls back to `js` with a one-time process
 * warning that gives the reason.
 */
export function resolveBackend(requested: Backend = 'auto'): 'js' | 'native' {
  if (requested === 'js') return 'js';
  if (requested !== 'native' && requested !== 'auto') {
    throw new RangeError(
      `backend must be 'js', 'native' or 'auto', got ${JSON.stringify(requested)}.`,
    );
  }
  if (loadNative()) return 'native';
  const reason = loadFailure?.message ?? 'unknown error';
  if (requested === 'native') {
    throw new Error(
      `the native onecycle binary did not load (${reason}). Install the ` +
        "package for this platform, build it with `npm run build:native`, or use backend: 'js'.",
    );
  }
  if (!warned) {
    warned = true;
    process.emitWarning(
      `the native onecycle binary did not load (${reason}); training runs on the slower TypeScript engine.`,
      { code: 'ONECYCLE_NO_NATIVE' },
    );
  }
  return 'js';
}
