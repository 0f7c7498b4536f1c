import type { Migration, MigrationProvider } from 'kysely/migration';
import * as wealthWarehouse from './0001-wealth-warehouse.ts';
import * as platformDefinitions from './0002-platform-definitions.ts';
import * as wealthProductNav from './0003-wealth-product-nav.ts';
import * as eventQuarantine from './0004-event-quarantine.ts';
import * as tagProfilesAndKeys from './0005-tag-profiles-and-keys.ts';
import * as materializationGuard from './0006-materialization-guard.ts';
import * as eventPiiVault from './0007-event-pii-vault.ts';
import * as keyScopes from './0008-key-scopes.ts';
import * as personalDataReads from './0009-personal-data-reads.ts';
import * as wealthRiskAssessments from './0010-wealth-risk-assessments.ts';
import * as currentProfiles from './0011-current-profiles.ts';
import * as placementImpressionCounts from './0012-placement-impression-counts.ts';
import * as goalsAndExposureIndex from './0013-goals-and-exposure-index.ts';
import * as monitoring from './0014-monitoring.ts';
import * as rollups from './0015-rollups.ts';
import * as partitionedFacts from './0016-partitioned-facts.ts';
import * as exposureTimeIndex from './0021-exposure-time-index.ts';
import * as experimentExposures from './0026-experiment-exposures.ts';
import * as eventNameTimeIndex from './0027-event-name-time-index.ts';
import * as rollupTouches from './0028-rollup-touches.ts';
import * as setBasedExposures from './0030-set-based-exposures.ts';
import * as exposuresWithoutIdleLocks from './0032-exposures-without-idle-locks.ts';
import * as holdingsDayCoveringIndex from './0033-holdings-day-covering-index.ts';
import * as eventCustomerTimeIndex from './0034-event-customer-time-index.ts';

/** Every migration, in order. Names sort in application order; add new ones at the end. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-wealth-warehouse': wealthWarehouse,
  '0002-platform-definitions': platformDefinitions,
  '0003-wealth-product-nav': wealthProductNav,
  '0004-event-quarantine': eventQuarantine,
  '0005-tag-profiles-and-keys': tagProfilesAndKeys,
  '0006-materialization-guard': materializationGuard,
  '0007-event-pii-vault': eventPiiVault,
  '0008-key-scopes': keyScopes,
  '0009-personal-data-reads': personalDataReads,
  '0010-wealth-risk-assessments': wealthRiskAssessments,
  '0011-current-profiles': currentProfiles,
  '0012-placement-impression-counts': placementImpressionCounts,
  '0013-goals-and-exposure-index': goalsAndExposureIndex,
  '0014-monitoring': monitoring,
  '0015-rollups': rollups,
  '0016-partitioned-facts': partitionedFacts,
  '0021-exposure-time-index': exposureTimeIndex,
  '0026-experiment-exposures': experimentExposures,
  '0027-event-name-time-index': eventNameTimeIndex,
  '0028-rollup-touches': rollupTouches,
  '0030-set-based-exposures': setBasedExposures,
  '0032-exposures-without-idle-locks': exposuresWithoutIdleLocks,
  '0033-holdings-day-covering-index': holdingsDayCoveringIndex,
  '0034-event-customer-time-index': eventCustomerTimeIndex,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
