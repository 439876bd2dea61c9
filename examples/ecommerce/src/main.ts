/**
 * `npm start`: every service in one process (memory transport and stores
 * unless TRANSPORT says otherwise), the HTTP API and web page on PORT, and a
 * narrated scenario. `--scenario-only` exits after it.
 */
import { ShopClient } from './client';
import type { eventFeedService } from './feed/event-feed';
import { readConfig } from './platform/config';
import { startHost } from './platform/host';
import { runScenario } from './scenario';
import { SERVICES } from './services';

const config = readConfig();
const host = await startHost({ config, services: SERVICES });
const feed = host.services.get('event-feed') as ReturnType<typeof eventFeedService>;
console.log(
  `shop: ${Object.keys(SERVICES).length} services on ${config.TRANSPORT}, API and web page at ${host.http.url}`,
);

const stopFeed = feed.listen((entry) => {
  console.log(
    `   event ${entry.type.padEnd(28)} key=${entry.key ?? '-'} correlation=${entry.correlationId.slice(0, 12)}`,
  );
});
try {
  await runScenario(new ShopClient(host.http.url), (line) => console.log(line));
} finally {
  stopFeed();
}

const shutdown = async () => {
  await host.stop();
  process.exit(0);
};
if (process.argv.includes('--scenario-only')) {
  await shutdown();
} else {
  console.log(`\nThe shop keeps running: open ${host.http.url} (Ctrl-C stops it).`);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
