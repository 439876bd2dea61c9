import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
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
  external: ['@edakit/core', 'amqplib'],
});
