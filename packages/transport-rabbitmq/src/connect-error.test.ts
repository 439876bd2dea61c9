import { describe, expect, it } from 'vitest';
import { describeConnectError } from './connect-error';

/** The shape of Node's TLS errors (message, code, sometimes OpenSSL's reason). */
function nodeError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('describeConnectError', () => {
  it('names an untrusted broker certificate and says how to trust it', () => {
    const text = describeConnectError(
      nodeError('unable to verify the first certificate', {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
    );
    expect(text).toBe(
      "TLS: the broker's certificate is not trusted: unable to verify the first certificate " +
        '(UNABLE_TO_VERIFY_LEAF_SIGNATURE); pass the CA that issued it as socketOptions.ca',
    );
    expect(
      describeConnectError(
        nodeError('self-signed certificate in certificate chain', {
          code: 'SELF_SIGNED_CERT_IN_CHAIN',
        }),
      ),
    ).toMatch(/^TLS: the broker's certificate is not trusted: self-signed .*socketOptions\.ca$/);
  });

  it('names a rejected certificate without the CA hint when trust is not the problem', () => {
    expect(
      describeConnectError(nodeError('certificate has expired', { code: 'CERT_HAS_EXPIRED' })),
    ).toBe(
      "TLS: the broker's certificate was rejected: certificate has expired (CERT_HAS_EXPIRED)",
    );
  });

  it('names a host name mismatch and points at servername', () => {
    const text = describeConnectError(
      nodeError(
        "Hostname/IP does not match certificate's altnames: Host: mq. is not in the cert's altnames: DNS:localhost",
        { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: 'Host: mq. is not in…' },
      ),
    );
    expect(text).toMatch(
      /^TLS: Hostname\/IP does not match certificate's altnames: .*DNS:localhost/,
    );
    expect(text).toMatch(/\(ERR_TLS_CERT_ALTNAME_INVALID\); .*socketOptions\.servername$/);
  });

  it("replaces OpenSSL's raw text with its reason and a hint", () => {
    const raw =
      '80AC81BE547F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n';
    expect(
      describeConnectError(
        nodeError(raw, {
          code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
          reason: 'tlsv13 alert certificate required',
          library: 'SSL routines',
        }),
      ),
    ).toBe(
      'TLS: tlsv13 alert certificate required (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED); ' +
        'the broker asks for a client certificate: pass socketOptions.cert and socketOptions.key',
    );
    expect(
      describeConnectError(
        nodeError('…:wrong version number:…\n', {
          code: 'ERR_SSL_WRONG_VERSION_NUMBER',
          reason: 'wrong version number',
        }),
      ),
    ).toMatch(
      /^TLS: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\); the port does not speak TLS/,
    );
    expect(
      describeConnectError(nodeError('raw\n', { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' })),
    ).toBe('TLS: raw (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE)');
  });

  it('leaves other errors as their message', () => {
    expect(
      describeConnectError(nodeError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })),
    ).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(describeConnectError(new Error('Socket closed abruptly during opening handshake'))).toBe(
      'Socket closed abruptly during opening handshake',
    );
    expect(describeConnectError('plain text')).toBe('plain text');
    expect(describeConnectError(undefined)).toBe('undefined');
    expect(describeConnectError({ code: 'X' })).toBe('{"code":"X"}');
  });
});
