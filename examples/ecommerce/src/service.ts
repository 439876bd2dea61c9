/**
 * `npm run service -- <name> [<name>...]`: runs the named services in this
 * process over Kafka or RabbitMQ (TRANSPORT), with their HTTP routes on PORT,
 * so the shop can be spread over several processes or machines sharing one
 * SHOP_NAMESPACE. `npm run service -- gateway` runs no service: it serves the
 * routes of the processes listed in SHOP_UPSTREAMS at one address.
 *
 * Prints one line `ready <names> on <url> ...` once every consumer group
 * consumes; stops gracefully on SIGTERM or SIGINT. Exit code 2 for bad usage.
 */
import { type Config, ConfigError, readConfig } from './platform/config';
import { processRoute, startGateway } from './platform/gateway';
import { startHost } from './platform/host';
import { isServiceName, SERVICES, type ServiceName } from './services';

const GATEWAY = 'gateway';
/** A stop that takes longer than this ends the process anyway (exit code 1). */
const STOP_TIMEOUT_MS = 20_000;

const known = Object.keys(SERVICES).join(', ');
const usage = `usage: npm run service -- <service> [<service>...]
       npm run service -- ${GATEWAY}     (with SHOP_UPSTREAMS=<url>,<url>,...)
services: ${known}
environment: TRANSPORT=kafka|rabbitmq, SHOP_NAMESPACE, PORT, KAFKA_BROKERS, AMQP_URL, DATABASE_URL, REDIS_URL, SHOP_TRACING`;

function refuse(message: string): never {
  console.error(`service: ${message}`);
  process.exit(2);
}

function readEnvironment(): Config {
  try {
    return readConfig();
  } catch (error) {
    if (error instanceof ConfigError) refuse(error.message);
    throw error;
  }
}

/** Stops `stop` once on SIGTERM or SIGINT, then exits; a second signal exits at once. */
function stopOnSignal(what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`service: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`stopping ${what} (${signal})`);
    setTimeout(() => {
      console.error(`service: ${what} did not stop within ${STOP_TIMEOUT_MS} ms`);
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    stop().then(
      () => {
        console.log(`stopped ${what}`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`service: stopping ${what} failed:`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

async function runGateway(config: Config): Promise<void> {
  if (config.SHOP_UPSTREAMS.length === 0) {
    refuse(`${GATEWAY} needs SHOP_UPSTREAMS, the URLs of the service processes, comma-separated`);
  }
  const gateway = await startGateway(config.SHOP_UPSTREAMS, config.PORT);
  stopOnSignal(GATEWAY, () => gateway.close());
  console.log(
    `ready ${GATEWAY} on ${gateway.url} (${gateway.routes.length} routes of ${config.SHOP_UPSTREAMS.join(', ')})`,
  );
}

async function runServices(config: Config, names: readonly ServiceName[]): Promise<void> {
  if (config.TRANSPORT === 'memory') {
    refuse(
      'TRANSPORT=memory cannot span processes (its broker lives inside one process): ' +
        'set TRANSPORT=kafka or TRANSPORT=rabbitmq, or run every service in one process with npm start',
    );
  }
  const services = Object.fromEntries(names.map((name) => [name, SERVICES[name]]));
  const host = await startHost({
    config,
    services,
    extraRoutes: (running) => {
      const routes = [...running.values()].flatMap((service) => service.routes);
      return [
        processRoute(
          { services: names, transport: config.TRANSPORT, namespace: config.SHOP_NAMESPACE },
          routes,
        ),
      ];
    },
  });
  stopOnSignal(names.join(','), () => host.stop());
  console.log(
    `ready ${names.join(',')} on ${host.http.url} (${config.TRANSPORT}, namespace ${config.SHOP_NAMESPACE}, pid ${process.pid})`,
  );
}

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) refuse(usage);
const unknown = args.filter((name) => name !== GATEWAY && !isServiceName(name));
if (unknown.length > 0) {
  refuse(`unknown service${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known}`);
}
if (args.includes(GATEWAY) && args.length > 1) {
  refuse(`${GATEWAY} runs alone, in a process of its own`);
}
const config = readEnvironment();
try {
  if (args[0] === GATEWAY) await runGateway(config);
  else await runServices(config, [...new Set(args)] as ServiceName[]);
} catch (error) {
  console.error(`service: ${args.join(',')} failed to start:`, error);
  process.exit(1);
}
