import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.ts';
import { startTracing, stopTracing } from '../api/tracing.ts';
import { createApiKey } from '../store/api-keys.ts';
import { createTestDatabase, testEngines, type TestDatabase } from './support/engines.ts';
import { bundledDomain } from '../api/bundled-domain.ts';

interface ExportedSpan {
  name: string;
  parentSpanId?: string;
  spanId: string;
}
interface TraceExport {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: ExportedSpan[] }[] }[];
}

/**
 * With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the server loads the trace SDK and sends its spans
 * over OTLP/HTTP: here to a collector on the loopback interface that keeps what it receives.
 */
describe.each(await testEngines())('trace export over OTLP/HTTP on %s', (engine) => {
  let collector: Server;
  const received: TraceExport[] = [];
  let database: TestDatabase;

  beforeAll(async () => {
    collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as TraceExport);
        response.setHeader('content-type', 'application/json');
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database.dispose();
    await new Promise((resolve) => collector.close(resolve));
  });

  it('exports the request, operation and statement spans when stopped', async () => {
    const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    await startTracing({ endpoint, serviceName: 'strata-under-test', sampleRatio: 1 });
    const app = await createApp(database, bundledDomain(), { dev: false, maxBodyBytes: 64 * 1024 });
    try {
      const key = await createApiKey(database.db, `export-${engine}`, 'app');
      const base = `http://127.0.0.1:${await app.listen(0)}`;
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: 'query Exported { customer(id: "c000001") { id } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      await app.close();
      await stopTracing();
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    }
    const resources = received.flatMap((r) => r.resourceSpans);
    expect(resources.flatMap((r) => r.resource.attributes).find((a) => a.key === 'service.name')?.value.stringValue).toBe('strata-under-test');
    const exported = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const operation = exported.find((s) => s.name === 'query Exported');
    expect(operation).toBeDefined();
    expect(exported.find((s) => s.name === 'POST /graphql')?.spanId).toBe(operation?.parentSpanId);
    expect(exported.some((s) => s.name === 'SELECT' && s.parentSpanId === operation?.spanId)).toBe(true);
  });
});
