import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(
  packageBuild({ index: 'src/index.ts', redis: 'src/redis/index.ts' }, [
    '@edakit/core',
    '@edakit/outbox',
    '@edakit/outbox/redis',
    'pg',
    'ioredis',
  ]),
);
