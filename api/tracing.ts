import { context, ProxyTracerProvider, propagation, trace } from '@opentelemetry/api';
import { logger } from '../store/logger.ts';
import { STRATA_VERSION } from '../store/version.ts';

/** Where and how traces are exported; absent: tracing is off and the API's no-op tracer costs next to nothing. */
export interface TracingConfig {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): an OTLP/HTTP collector. */
  readonly endpoint: string;
  /** `OTEL_SERVICE_NAME`, default `strata`. */
  readonly serviceName: string;
  /** Share of new traces sampled (`OTEL_TRACES_SAMPLER_ARG`, default 1); a sampled parent's children always are. */
  readonly sampleRatio: number;
}

let stop: (() => Promise<void>) | undefined;

/**
 * Whether a tracer provider is registered (by `startTracing`, or by a test). Without one every
 * span the API makes is a non-recording no-op, which still costs a tracer, a span, a context
 * and closures on every request: the request path (api/http-front.ts, api/graphql-handler.ts)
 * makes none then.
 */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('strata') !== undefined;
}

/**
 * Starts the OpenTelemetry trace SDK: spans go in batches to the OTLP/HTTP endpoint (the
 * exporter reads `OTEL_EXPORTER_OTLP_*` itself, headers included), W3C `traceparent` headers
 * of incoming requests are continued, and async work keeps its parent span. The SDK packages
 * are loaded only here, so a server without tracing never loads them.
 *
 * ```ts
 * if (config.tracing) await startTracing(config.tracing);
 * ```
 */
export async function startTracing(config: TracingConfig): Promise<void> {
  if (stop) return;
  const [
    { TracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler },
    { OTLPTraceExporter },
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': STRATA_VERSION }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  stop = async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  };
  logger.info({ endpoint: config.endpoint, serviceName: config.serviceName, sampleRatio: config.sampleRatio }, 'tracing: exporting spans over OTLP/HTTP');
}

/** Exports the spans still buffered and stops the SDK, back to the no-op API (nothing when tracing is off). */
export async function stopTracing(): Promise<void> {
  const stopping = stop;
  stop = undefined;
  await stopping?.();
}
