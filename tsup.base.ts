import type { Options } from 'tsup';

/**
 * How every edakit package is built: ESM + CJS + .d.ts for Node 20, shared
 * chunks (so `.` and `./testing` share one copy of each class under require()
 * too), and the given dependencies left external.
 */
export function packageBuild(entry: Record<string, string>, external: string[]): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    tsconfig: 'tsconfig.build.json',
    dts: {
      compilerOptions: {
        // tsup 8 injects `baseUrl: "."` into the dts build, which TypeScript 6 flags (TS5101).
        ignoreDeprecations: '6.0',
      },
    },
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    external,
  };
}
