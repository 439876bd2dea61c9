import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild(
    {
      index: 'src/index.ts',
      'testing/index': 'src/testing/index.ts',
      'prometheus/index': 'src/prometheus/index.ts',
      'opentelemetry/index': 'src/opentelemetry/index.ts',
      demo: 'src/demo.ts',
    },
    ['vitest', 'prom-client', '@opentelemetry/api'],
  ),
);
