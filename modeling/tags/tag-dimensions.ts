import type { Catalog, Dimension, Model } from '../catalog/types.ts';
import { deepFreeze } from '../catalog/freeze.ts';
import { TAG_JOIN } from '../catalog/join-graph.ts';
import { tagValueType, type TagDefinition } from './tag-definition.ts';

/**
 * The catalog with the subject's published tags as dimensions: a model over the current
 * profile snapshot (one row per customer), joined one-to-one from the subject under the
 * name `tag`, so `customer.tag.<key>` slices and filters metrics like any dimension.
 * Tag keys are validated snake_case names of the catalog, never request text.
 */
export function withTagDimensions(catalog: Catalog, subjectName: string, tags: readonly TagDefinition[]): Catalog {
  const subject = catalog.models.find((m) => m.name === subjectName);
  const [key] = subject?.primaryKey ?? [];
  if (!subject || !key) return catalog;
  const modelName = `${subjectName}_${TAG_JOIN}`;
  const published = tags.filter((t) => t.status === 'PUBLISHED' && /^[a-z][a-z0-9_]*$/.test(t.key));
  const tagModel: Model = {
    name: modelName,
    description: `Published tags of each ${subjectName}, from the current profile snapshot.`,
    owner: 'strata',
    status: 'PUBLISHED',
    source: {
      sql: `SELECT p.customer_id AS subject_key, p.tags FROM strata.customer_profiles p WHERE p.run_id = (SELECT s.run_id FROM strata.profile_snapshot s WHERE s.id = 1)`,
    },
    primaryKey: ['subject_key'],
    timeZone: subject.timeZone,
    dimensions: published.map(
      (tag): Dimension => ({
        name: tag.key,
        type: dimensionType(tag),
        description: tag.description,
        sql: valueSql(tag),
        ...(tag.sensitivity ? { sensitivity: tag.sensitivity } : {}),
      }),
    ),
    measures: [],
    joins: [],
  };
  const joined: Model = { ...subject, joins: [...subject.joins, { name: TAG_JOIN, model: modelName, cardinality: 'one_to_one', on: [[key, 'subject_key']] }] };
  return deepFreeze({ ...catalog, models: [...catalog.models.filter((m) => m !== subject), joined, tagModel] });
}

function dimensionType(tag: TagDefinition): Dimension['type'] {
  const type = tagValueType(tag);
  return type === 'time' ? 'string' : type;
}

function valueSql(tag: TagDefinition): string {
  const text = `(tags ->> '${tag.key}')`;
  const type = tagValueType(tag);
  return type === 'boolean' ? `CAST(${text} AS boolean)` : type === 'number' ? `CAST(${text} AS numeric)` : text;
}
