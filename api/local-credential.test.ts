import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { acceptsLocalToken, createLocalToken, isLocalToken } from './local-credential.ts';

const from = (remoteAddress: string) => ({ socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('local credential', () => {
  const token = createLocalToken();

  it("is accepted only when it is this server's, from a loopback address", () => {
    expect(isLocalToken(token)).toBe(true);
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(acceptsLocalToken(token, token, from(address))).toBe(true);
    for (const address of ['10.1.2.3', '::ffff:192.168.0.4', '2001:db8::1']) expect(acceptsLocalToken(token, token, from(address))).toBe(false);
    expect(acceptsLocalToken(token, createLocalToken(), from('127.0.0.1'))).toBe(false);
    expect(acceptsLocalToken(undefined, token, from('127.0.0.1'))).toBe(false);
    expect(acceptsLocalToken(token, `${token}x`, from('127.0.0.1'))).toBe(false);
  });

  it('is fresh every time and never looks like an API key or a JWT', () => {
    expect(createLocalToken()).not.toBe(token);
    expect(token).toMatch(/^strata_local_[A-Za-z0-9_-]{43}$/);
  });
});
