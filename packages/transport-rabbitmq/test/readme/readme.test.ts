import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkAndRun,
  checkAndRunAsync,
  typescriptBlocks,
} from '../../../../test-support/readme-example';
import { testUrl, vhost } from '../support/integration';
import { brokerHost, brokerPort } from '../support/rabbitmq-broker';
import { generateTestPki, TlsProxy } from '../support/tls-proxy';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe('README example', () => {
  it('type-checks and prints "billed o-1" against the real broker', () => {
    const [example = ''] = typescriptBlocks(join(packageDir, 'README.md'));
    // AMQP_URL points the example at this run's vhost (deleted after the run).
    expect(checkAndRun(example, packageDir, { AMQP_URL: testUrl() }).trim()).toBe('billed o-1');
  }, 120_000);

  it('TLS example type-checks and connects over amqps with the CA file', async () => {
    const [example = ''] = typescriptBlocks(join(packageDir, 'README.md'), '## TLS (amqps)');
    expect(example).toContain('socketOptions');
    // A TLS endpoint in front of the broker, with a CA made for this test.
    const pki = generateTestPki();
    const proxy = await TlsProxy.start(brokerHost, brokerPort, { pki });
    const dir = mkdtempSync(join(tmpdir(), 'edakit-readme-tls-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, pki.ca);
      const output = await checkAndRunAsync(example, packageDir, {
        AMQPS_URL: `amqps://guest:guest@localhost:${proxy.port}/${encodeURIComponent(vhost())}`,
        AMQP_CA_FILE: caFile,
      });
      expect(output.trim()).toBe('connected over TLS');
      expect(proxy.sessions).toHaveLength(1);
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
