import { messageOf } from '@edakit/core';

/** Certificate verification failures that trusting the issuing CA fixes. */
const UNTRUSTED_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);

/** Node's other X.509 verification codes (`tls.connect` rejects the broker's certificate). */
const CERTIFICATE_REJECTED = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);

/**
 * One line that says why a connection attempt failed. TLS failures are named
 * as such, with Node's code and what usually fixes them; OpenSSL's raw text
 * (`80AC…:error:0A00045C:SSL routines:…:rec_layer_s3.c:1601:…`) becomes its
 * reason. Anything else is the error's message. Never quotes options: the
 * caller still scrubs secrets from the result.
 */
export function describeConnectError(error: unknown): string {
  const message = messageOf(error).trim();
  const { code, reason } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    reason?: unknown;
  };
  if (typeof code !== 'string') return message;
  if (UNTRUSTED_ISSUER.has(code)) {
    return `TLS: the broker's certificate is not trusted: ${message} (${code}); pass the CA that issued it as socketOptions.ca`;
  }
  if (CERTIFICATE_REJECTED.has(code)) {
    return `TLS: the broker's certificate was rejected: ${message} (${code})`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: ${message} (${code}); connect with a host name the certificate lists, or set socketOptions.servername`;
  }
  if (code.startsWith('ERR_SSL_')) {
    const text = typeof reason === 'string' && reason !== '' ? reason : message;
    return `TLS: ${text} (${code})${sslHint(code)}`;
  }
  return message;
}

function sslHint(code: string): string {
  if (code.includes('CERTIFICATE_REQUIRED')) {
    return '; the broker asks for a client certificate: pass socketOptions.cert and socketOptions.key';
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return '; the port does not speak TLS (amqps:// to a plain AMQP port? RabbitMQ listens for TLS on 5671)';
  }
  return '';
}
