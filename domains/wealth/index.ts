import { fileURLToPath } from 'node:url';
import { defineDomain, type Domain } from '../../modeling/domain/define-domain.ts';
import { wealthCatalog } from './catalog.ts';
import { wealthTags } from './tags.ts';
import { wealthChannels, wealthEvents } from './events.ts';
import { wealthDashboards } from './dashboards.ts';
import { wealthMonitors } from './monitors.ts';
import { loadTagDefinitionsFile } from '../../modeling/tags/tag-definitions-file.ts';
import { projectFile } from '../../store/project-files.ts';

/**
 * Steward-defined tags exported with `strata tags export` and committed beside the
 * code-defined ones; read from the source tree also when running compiled.
 */
export const STEWARD_TAGS_FILE = projectFile('domains/wealth/steward-tags.json');

/**
 * The bundled wealth-management domain of DOMAIN.md: its catalog (built here, once per
 * call), its code-defined and steward-exported tags about the customer, its behaviour
 * events and channels.
 */
export function wealthDomain(): Domain {
  return defineDomain({
    name: 'wealth',
    catalog: wealthCatalog(),
    subject: 'customer',
    tags: [...wealthTags, ...loadTagDefinitionsFile(STEWARD_TAGS_FILE)],
    events: wealthEvents,
    channels: wealthChannels,
    stewardTagsFile: fileURLToPath(STEWARD_TAGS_FILE),
    dashboards: wealthDashboards,
    monitors: wealthMonitors,
  });
}
