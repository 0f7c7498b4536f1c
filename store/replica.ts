import type pg from 'pg';
import { logger } from './logger.ts';

/** How far a streaming replica is behind its primary, as last measured. */
export interface ReplicaLag {
  /** Whether both the replica and the primary answered the last measurement. */
  readonly reachable: boolean;
  /** Whether the replica is in recovery (a standby); a promoted or plain server is not a replica. */
  readonly standby: boolean;
  /** Bytes of WAL the primary has written that the replica has not replayed yet; null when unknown. */
  readonly lagBytes: number | null;
  /**
   * Seconds between now and the commit time of the last transaction the replica replayed,
   * while it has WAL left to replay; 0 once it has replayed everything the primary wrote
   * (an idle primary is not lag); null when unknown (unreachable, or behind without having
   * replayed a commit since it started: then it does not serve reads).
   */
  readonly lagSeconds: number | null;
  /** Whether reads are sent to the replica now: reachable, a standby, and within the largest lag allowed. */
  readonly serving: boolean;
  /** When this was measured (ISO 8601). */
  readonly measuredAt: string;
  /** Why reads went back to the primary, when they did. */
  readonly problem?: string;
}

export interface ReplicaMonitor {
  /** The last measurement (the first one is taken when the database opens). */
  current(): ReplicaLag;
  /** Measures now (concurrent calls share one measurement). */
  measure(): Promise<ReplicaLag>;
  close(): void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Measures the lag of a streaming replica every `intervalMs` on two probe pools (the
 * primary's and the replica's): the WAL bytes between the primary's current position and the
 * replica's replay position (`pg_wal_lsn_diff`), and, while that is not zero, the age of the
 * last replayed commit. Reads go to the replica only while it answers, is a standby, and
 * lags at most `maxLagSeconds`; otherwise they go to the primary until a measurement says
 * the replica has caught up.
 */
export async function startReplicaMonitor(
  primary: pg.Pool,
  replica: pg.Pool,
  options: { maxLagSeconds: number; intervalMs?: number },
): Promise<ReplicaMonitor> {
  let last: ReplicaLag = { reachable: false, standby: false, lagBytes: null, lagSeconds: null, serving: false, measuredAt: new Date().toISOString() };
  let inFlight: Promise<ReplicaLag> | undefined;
  let first = true;

  const take = async (): Promise<ReplicaLag> => {
    const measuredAt = new Date().toISOString();
    try {
      const { rows } = await replica.query<{ standby: boolean; replayed: string | null; replay_age: number | null }>(
        `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed,
           EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS replay_age`,
      );
      const row = rows[0];
      if (!row?.standby || row.replayed === null) {
        return { reachable: true, standby: false, lagBytes: null, lagSeconds: null, serving: false, measuredAt, problem: 'the read database is not a standby' };
      }
      const behind = await primary.query<{ bytes: string }>('SELECT GREATEST(pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn), 0)::text AS bytes', [
        row.replayed,
      ]);
      const lagBytes = Number(behind.rows[0]?.bytes ?? 0);
      // Behind, with no commit replayed since the replica started: the lag in time is unknown.
      const lagSeconds = lagBytes === 0 ? 0 : row.replay_age === null ? null : Math.max(0, row.replay_age);
      const serving = lagSeconds !== null && lagSeconds <= options.maxLagSeconds;
      return {
        reachable: true,
        standby: true,
        lagBytes,
        lagSeconds,
        serving,
        measuredAt,
        ...(serving
          ? {}
          : {
              problem:
                lagSeconds === null
                  ? `the replica is ${lagBytes} bytes behind and has replayed no commit since it started`
                  : `the replica lags ${lagSeconds.toFixed(1)} s, more than ${options.maxLagSeconds} s`,
            }),
      };
    } catch (error) {
      return { reachable: false, standby: false, lagBytes: null, lagSeconds: null, serving: false, measuredAt, problem: message(error) };
    }
  };

  const measure = (): Promise<ReplicaLag> => {
    inFlight ??= take()
      .then((next) => {
        if (first || next.serving !== last.serving)
          logger[next.serving ? 'info' : 'warn'](
            { lagSeconds: next.lagSeconds, lagBytes: next.lagBytes, problem: next.problem },
            next.serving ? 'reads go to the replica' : 'reads go to the primary',
          );
        last = next;
        first = false;
        return next;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  await measure();
  const timer = setInterval(() => void measure(), options.intervalMs ?? 5_000);
  timer.unref();
  return {
    current: () => last,
    measure,
    close: () => clearInterval(timer),
  };
}
