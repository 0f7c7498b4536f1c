import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createApp, type App } from '../api/app.ts';
import { loadConfig, type JwtConfig } from '../api/config.ts';
import { createTestDatabase, type TestDatabase } from './support/engines.ts';
import { describeEachEngine } from './support/describe-engines.ts';
import { graphqlClient } from './support/graphql-client.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

/**
 * Bearer JWTs (API.md "Access"): RS256 and ES256 tokens verified against a JWKS file, with
 * issuer, audience, expiry and algorithm checked; every forged or stale token is refused
 * with UNAUTHENTICATED and no data; the role, clearance and scope claims.
 */

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'strata-test';
const VIEWER = `{ viewer { name role clearance scope via } }`;
const CATALOG = `{ catalog { metrics { name } } }`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

interface Signer {
  readonly privateKey: CryptoKey;
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
}

await describeEachEngine('bearer JWTs on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let plain: App;
  let dir: string;
  let base = '';
  let plainBase = '';
  let rsa: Signer;
  let ec: Signer;
  let rsaPublicPem = '';
  /** A key the issuer never published, claiming the RSA key's id. */
  let impostor: Signer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-jwks-'));
    const rsaPair = await generateKeyPair('RS256', { extractable: true });
    const ecPair = await generateKeyPair('ES256', { extractable: true });
    rsa = { privateKey: rsaPair.privateKey, alg: 'RS256', kid: 'rsa-1' };
    ec = { privateKey: ecPair.privateKey, alg: 'ES256', kid: 'ec-1' };
    impostor = { privateKey: (await generateKeyPair('RS256')).privateKey, alg: 'RS256', kid: 'rsa-1' };
    rsaPublicPem = await exportSPKI(rsaPair.publicKey);
    const keys = [
      { ...(await exportJWK(rsaPair.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ecPair.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys }));
    const jwt: JwtConfig = {
      jwks: join(dir, 'jwks.json'),
      issuer: ISSUER,
      audience: [AUDIENCE],
      algorithms: ['RS256', 'ES256'],
      roleClaim: 'role',
      clearanceClaim: 'strata_clearance',
      scopeClaim: 'strata_scope',
      clockToleranceSeconds: 30,
    };
    database = await createTestDatabase(engine);
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 100_000, anonymousRole: null, authFailureLimit: 0, jwt });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    plain = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 100_000, anonymousRole: null, authFailureLimit: 0 });
    plainBase = `http://127.0.0.1:${await plain.listen(0)}`;
  });
  afterAll(async () => {
    await app?.close();
    await plain?.close();
    await database?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const { ok, post } = graphqlClient(() => base);
  const sign = (claims: JWTPayload, signer: Signer = rsa, options: { iss?: string; aud?: string; exp?: number } = {}) =>
    new SignJWT({ role: 'analyst', ...claims })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' })
      .setSubject('alice')
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? now() + 300)
      .sign(signer.privateKey);
  const payload = (claims: JWTPayload = {}) => ({ sub: 'mallory', role: 'admin', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...claims });
  /** The refusal of a token: UNAUTHENTICATED, no data; returns the message. */
  const refusedToken = async (token: string, client = post): Promise<string> => {
    const body = await client(token, CATALOG);
    expect(body.data ?? null, JSON.stringify(body.data)).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    return body.errors?.[0]?.message ?? '';
  };

  it('accepts RS256 and ES256 tokens from the issuer, as jwt:<sub> with the role claim', async () => {
    expect((await ok(await sign({}), VIEWER)).viewer).toEqual({ name: 'jwt:alice', role: 'analyst', clearance: 'internal', scope: null, via: 'JWT' });
    const ecToken = await sign({ role: 'operator' }, ec);
    expect((await ok(ecToken, VIEWER)).viewer).toMatchObject({ name: 'jwt:alice', role: 'operator', clearance: 'personal' });
    expect((await ok(ecToken, CATALOG)).catalog.metrics.length).toBeGreaterThan(0);
  });

  it('refuses expired, wrong-audience and wrong-issuer tokens', async () => {
    expect(await refusedToken(await sign({}, rsa, { exp: now() - 120 }))).toContain('expired');
    expect(await refusedToken(await sign({}, rsa, { aud: 'another-service' }))).toContain("'aud'");
    expect(await refusedToken(await sign({}, rsa, { iss: 'https://evil.example.test/' }))).toContain("'iss'");
  });

  it('refuses alg none, HS256 signed with the public key, and a signature by an unpublished key', async () => {
    const body = b64(payload());
    expect(await refusedToken(`${b64({ alg: 'none', typ: 'JWT' })}.${body}.`)).toContain('algorithm');
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' });
    const hmac = createHmac('sha256', rsaPublicPem).update(`${header}.${body}`).digest('base64url');
    expect(await refusedToken(`${header}.${body}.${hmac}`)).toContain('algorithm');
    expect(await refusedToken(await sign({ role: 'admin' }, impostor))).toContain('signature');
    const [h, , s] = (await sign({ role: 'analyst' })).split('.');
    expect(await refusedToken(`${h}.${body}.${s}`)).toContain('signature');
  });

  it('refuses a missing or unknown role and a token without expiry', async () => {
    expect(await refusedToken(await sign({ role: 'superuser' }))).toContain("'role' claim");
    expect(await refusedToken(await sign({ role: undefined }))).toContain("'role' claim");
    const noExpiry = await new SignJWT({ role: 'analyst' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
      .setSubject('alice')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(rsa.privateKey);
    expect(await refusedToken(noExpiry)).toContain("'exp'");
  });

  it('lets the clearance claim lower the role clearance and refuses raising it', async () => {
    expect((await ok(await sign({ role: 'app', strata_clearance: 'public' }), VIEWER)).viewer.clearance).toBe('public');
    expect(await refusedToken(await sign({ role: 'analyst', strata_clearance: 'restricted' }))).toContain('may only lower');
    expect(await refusedToken(await sign({ strata_clearance: 'top-secret' }))).toContain('not a clearance');
  });

  it('carries a scope claim checked against the catalog, as an object or a JSON string', async () => {
    const scope = { dimension: 'customer.channel', op: 'IN', values: ['app'] };
    expect((await ok(await sign({ strata_scope: scope }), VIEWER)).viewer.scope).toEqual(scope);
    expect((await ok(await sign({ strata_scope: JSON.stringify(scope) }, ec), VIEWER)).viewer.scope).toEqual(scope);
    const aggregate = { aggregate: { measure: 'transaction.purchase_amount', window: { days: 30 } }, op: 'GT', values: ['0'] };
    expect(await refusedToken(await sign({ strata_scope: aggregate }))).toContain('not aggregates');
    expect(await refusedToken(await sign({ strata_scope: { dimension: 'customer.shoe_size', op: 'EQ', values: ['42'] } }))).toContain('unknown dimension');
  });

  it('refuses a key set holding a private or symmetric key at start', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwt = (file: string): JwtConfig => ({
      jwks: join(dir, file),
      issuer: ISSUER,
      audience: [AUDIENCE],
      algorithms: ['ES256'],
      roleClaim: 'role',
      clearanceClaim: 'c',
      scopeClaim: 's',
      clockToleranceSeconds: 30,
    });
    await writeFile(join(dir, 'private.json'), JSON.stringify({ keys: [await exportJWK(pair.privateKey)] }));
    await writeFile(join(dir, 'secret.json'), JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }));
    await expect(createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1000, jwt: jwt('private.json') })).rejects.toThrow(/private key/);
    await expect(createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1000, jwt: jwt('secret.json') })).rejects.toThrow(
      /only public RSA, EC or OKP/,
    );
    await expect(createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 1000, jwt: jwt('missing.json') })).rejects.toThrow(/cannot read/);
  });

  it('refuses every JWT, saying why, when tokens are not configured', async () => {
    const message = await refusedToken(await sign({}), graphqlClient(() => plainBase).post);
    expect(message).toContain('not configured');
  });
});

describe('JWT configuration', () => {
  const env = (extra: Record<string, string>) => ({
    STRATA_JWT_JWKS: '/etc/strata/jwks.json',
    STRATA_JWT_ISSUER: ISSUER,
    STRATA_JWT_AUDIENCE: AUDIENCE,
    ...extra,
  });

  it('reads the JWT variables with their defaults', () => {
    expect(loadConfig({}).jwt).toBeUndefined();
    expect(loadConfig(env({ STRATA_JWT_AUDIENCE: 'a, b' })).jwt).toEqual({
      jwks: '/etc/strata/jwks.json',
      issuer: ISSUER,
      audience: ['a', 'b'],
      algorithms: ['RS256', 'ES256'],
      roleClaim: 'role',
      clearanceClaim: 'strata_clearance',
      scopeClaim: 'strata_scope',
      clockToleranceSeconds: 30,
    });
    expect(loadConfig({ STRATA_TRUST_PROXY: 'true' }).trustProxy).toBe(1);
  });

  it('refuses symmetric and unsigned algorithms, plain-http key sets and a missing issuer or audience', () => {
    expect(() => loadConfig(env({ STRATA_JWT_ALGORITHMS: 'RS256,HS256' }))).toThrow(/STRATA_JWT_ALGORITHMS/);
    expect(() => loadConfig(env({ STRATA_JWT_ALGORITHMS: 'none' }))).toThrow(/never none or HS/);
    expect(() => loadConfig(env({ STRATA_JWT_JWKS: 'http://idp.example.test/jwks.json' }))).toThrow(/STRATA_JWT_JWKS/);
    expect(loadConfig(env({ STRATA_JWT_JWKS: 'https://idp.example.test/jwks.json' })).jwt?.jwks).toBe('https://idp.example.test/jwks.json');
    expect(() => loadConfig({ STRATA_JWT_JWKS: '/etc/strata/jwks.json', STRATA_JWT_AUDIENCE: AUDIENCE })).toThrow(/STRATA_JWT_ISSUER: is required/);
    expect(() => loadConfig({ STRATA_JWT_JWKS: '/etc/strata/jwks.json', STRATA_JWT_ISSUER: ISSUER })).toThrow(/STRATA_JWT_AUDIENCE: is required/);
    expect(() => loadConfig({ STRATA_TRUST_PROXY: 'yes' })).toThrow(/STRATA_TRUST_PROXY/);
  });
});
