import { z } from 'zod';

/**
 * Where the example runs, from the environment. Memory by default (one
 * process, no broker); `TRANSPORT=kafka|rabbitmq` uses a real broker and, for
 * the orders service, PostgreSQL (outbox) and Redis (saga).
 */
const environment = z.object({
  TRANSPORT: z.enum(['memory', 'kafka', 'rabbitmq']).default('memory'),
  KAFKA_BROKERS: z.string().default('127.0.0.1:9092'),
  AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672'),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/edakit_test'),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  /** Prefix of topics, queues, tables and keys: several shops can share one broker. */
  SHOP_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,30}$/, 'lower-case letters, digits and _')
    .default('shop'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /**
   * For `npm run service -- gateway`: the base URLs of the service processes,
   * comma-separated; the gateway forwards each request to the one serving its route.
   */
  SHOP_UPSTREAMS: z
    .string()
    .transform((list) =>
      list
        .split(',')
        .map((url) => url.trim().replace(/\/+$/, ''))
        .filter((url) => url !== ''),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ })))
    .default([]),
  /**
   * `1` (or `true`): every bus traces with OpenTelemetry (`@edakit/core/opentelemetry`) and
   * the HTTP server opens a span per request. Spans go to the SDK the process registered
   * (`node --import ./your-otel-setup.js`); without one nothing is recorded. Off by default.
   */
  SHOP_TRACING: z.stringbool().default(false),
  /** pino's level; `silent` in the tests. The narrated `npm start` prints its story on its own. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  /** A payment above this amount is declined (the scenario's failing order). */
  PAYMENT_LIMIT: z.coerce.number().positive().default(1_000),
});

export type Config = z.infer<typeof environment>;
export type TransportKind = Config['TRANSPORT'];

export class ConfigError extends Error {
  readonly code = 'SHOP_INVALID_CONFIG';
}

export function readConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
}
