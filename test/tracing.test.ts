import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../api/app.ts';
import { createApiKey } from '../store/api-keys.ts';
import { openDatabase } from '../store/database.ts';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { captureLog, type CapturedLog } from './support/log-capture.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const attributeText = (list: readonly ReadableSpan[]) => JSON.stringify(list.map((s) => s.attributes));

/**
 * With a trace SDK registered, a GraphQL request is one server span, its operation span
 * (named by operation type and name, with its class), and under it a span per SQL statement
 * (kind, rows; the SQL text only when asked, never a parameter); the caller's `traceparent`
 * is continued and the access-log line names the trace.
 */
describe.each(await testEngines())('traces on %s', (engine) => {
  let database: TestDatabase;
  let app: App;
  let base: string;
  let key: string;
  let log: CapturedLog;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    log = captureLog();
    app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024, logger: log.logger });
    base = `http://127.0.0.1:${await app.listen(0)}`;
    key = await createApiKey(database.db, 'traced-app', 'app');
  });
  afterAll(async () => {
    await app.close();
    await database.dispose();
  });
  beforeEach(() => exporter.reset());

  it('puts the SQL statements of a GraphQL operation under its operation span, under the request span', async () => {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-request-id': `traced-${engine}` },
      body: JSON.stringify({ query: 'query Banner($id: String!) { customer(id: $id) { id } }', variables: { id: 'c777777' } }),
    });
    expect(response.status).toBe(200);
    await vi.waitFor(() => expect(spans().find((s) => s.kind === SpanKind.SERVER)).toBeDefined());

    const server = spans().find((s) => s.kind === SpanKind.SERVER) as ReadableSpan;
    expect(server.name).toBe('POST /graphql');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'http.response.status_code': 200,
      'strata.request_id': `traced-${engine}`,
    });
    const operation = spans().find((s) => s.name === 'query Banner') as ReadableSpan;
    expect(operation.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(operation.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Banner',
      'strata.operation_class': 'profiles',
      'strata.graphql.root_fields': ['customer'],
    });

    const statements = spans().filter((s) => s.parentSpanContext?.spanId === operation.spanContext().spanId);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const statement of statements) {
      expect(statement.kind).toBe(SpanKind.CLIENT);
      expect(statement.name).toMatch(/^(SELECT|WITH|BEGIN|COMMIT|INSERT|UPDATE)$/);
      expect(statement.attributes['db.system.name']).toBe('postgresql');
      expect(statement.attributes['db.response.returned_rows']).toEqual(expect.any(Number));
      expect(statement.attributes['db.query.text']).toBeUndefined();
    }
    expect(statements.some((s) => s.name === 'SELECT')).toBe(true);
    expect(attributeText(spans())).not.toMatch(/c777777|traced-app/);
    expect(attributeText(spans())).not.toContain(key);

    await vi.waitFor(() => expect(log.lines.find((l) => l.requestId === `traced-${engine}`)).toBeDefined());
    expect(log.lines.find((l) => l.requestId === `traced-${engine}`)?.traceId).toBe(server.spanContext().traceId);
  });

  it("continues the caller's trace from traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ query: '{ version }' }),
    });
    await vi.waitFor(() => expect(spans().find((s) => s.kind === SpanKind.SERVER)).toBeDefined());
    const server = spans().find((s) => s.kind === SpanKind.SERVER) as ReadableSpan;
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(
      spans()
        .find((s) => s.name === 'query')
        ?.spanContext().traceId,
    ).toBe(traceId);
  });

  it('records SQL text only when asked, never a parameter, and a failed statement by its SQLSTATE only', async () => {
    for (const traceSqlText of [false, true]) {
      const traced = await openDatabase(
        engine === 'postgres' ? { databaseUrl: database.url, poolSize: 1, traceSqlText } : { dataDir: 'memory://', traceSqlText },
      );
      try {
        exporter.reset();
        await trace.getTracer('test').startActiveSpan('request', async (parent) => {
          await sql`SELECT ${'secret-value'}::text AS v`.execute(traced.db);
          await expect(sql`SELECT ${'not-a-number'}::int AS v`.execute(traced.db)).rejects.toThrow();
          parent.end();
        });
        const [ok, failed] = spans().filter((s) => s.kind === SpanKind.CLIENT);
        expect(ok?.attributes['db.query.text']).toBe(traceSqlText ? 'SELECT $1::text AS v' : undefined);
        expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SQLSTATE 22P02' });
        expect(failed?.attributes['db.response.status_code']).toBe('22P02');
        expect(JSON.stringify(spans().map((s) => [s.attributes, s.status, s.events]))).not.toMatch(/secret-value|not-a-number/);
      } finally {
        await traced.close();
      }
    }
  });

  it('makes no statement span outside a traced request', async () => {
    await sql`SELECT 1 AS one`.execute(database.db);
    expect(spans()).toEqual([]);
  });
});
