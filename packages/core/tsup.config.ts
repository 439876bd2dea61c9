import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    demo: 'src/demo.ts',
  },
  format: ['esm', 'cjs'],
  tsconfig: 'tsconfig.build.json',
  dts: {
    compilerOptions: {
      // tsup 8's dts step injects `baseUrl: "."`, which TypeScript 6 reports as deprecated
      // (TS5101). Our own tsconfigs do not use baseUrl; silence only that injected option here.
      ignoreDeprecations: '6.0',
    },
  },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Shared code goes to chunks in both formats, so `./testing` and `.` share one copy of
  // each class (instanceof and module state stay consistent) under require() as well.
  splitting: true,
  treeshake: true,
  external: ['vitest'],
});
