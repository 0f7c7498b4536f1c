/**
 * The services whose work the server counts in its metrics (api/server-metrics.ts): the
 * event collector and the personal-data read log, each wrapped so that what it does is
 * counted without the service knowing about metrics.
 */
import type { EventCollector } from '../store/event-collector.ts';
import type { PersonalDataLog } from '../store/personal-data-log.ts';
import type { ServerMetrics } from './server-metrics.ts';

/** The event collector, counting what happens to each batch in the metrics. */
export function countedEvents(collector: EventCollector, metrics: ServerMetrics): EventCollector {
  return {
    maxBatchSize: collector.maxBatchSize,
    async track(input) {
      const result = await collector.track(input);
      metrics.countEvents(result);
      return result;
    },
    async trackBuilt(events) {
      const result = await collector.trackBuilt(events);
      metrics.countEvents(result);
      return result;
    },
  };
}

/** The personal-data read log, counting recorded reads in the metrics. */
export function countedReads(log: PersonalDataLog, metrics: ServerMetrics): PersonalDataLog {
  return {
    ...log,
    record(actor, operation, customerIds) {
      log.record(actor, operation, customerIds);
      if (customerIds.length > 0) metrics.countPersonalDataRead(operation, customerIds.length);
    },
  };
}
