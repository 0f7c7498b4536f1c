import { describe, expect, it } from 'vitest';
import { isObjectType } from 'graphql';
import { schema } from '../resolvers/schema.ts';
import { MONITORING_MEMBER_SENSITIVITY, MONITORING_ROOT_FIELDS } from '../services/monitoring-sensitivity.ts';
import { OPERATION_POLICIES, PUBLIC, ROLE_CLEARANCE, rolesFor } from '../services/authorization.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';

const bare = (type: unknown) => String(type).replace(/[[\]!]/g, '');

describe('sensitivity of the monitoring operations', () => {
  it('classifies every field of every type they expose, and nothing the schema lacks', () => {
    for (const [typeName, fields] of Object.entries(MONITORING_MEMBER_SENSITIVITY)) {
      const type = schema.getType(typeName);
      expect(type && isObjectType(type), typeName).toBe(true);
      if (!type || !isObjectType(type)) continue;
      expect(Object.keys(type.getFields()).sort(), typeName).toEqual(Object.keys(fields).sort());
    }
  });

  it('reaches exactly the classified types (and the goal types classified with experiment results) from the monitoring roots', () => {
    const reached = new Set<string>();
    const visit = (name: string) => {
      const type = schema.getType(name);
      if (!type || !isObjectType(type) || reached.has(name)) return;
      reached.add(name);
      for (const field of Object.values(type.getFields())) visit(bare(field.type));
    };
    for (const root of MONITORING_ROOT_FIELDS.query) visit(bare(schema.getQueryType()?.getFields()[root]?.type));
    for (const root of MONITORING_ROOT_FIELDS.mutation) visit(bare(schema.getMutationType()?.getFields()[root]?.type));
    const own = [...reached].filter((t) => !['Goal', 'GoalPeriod', 'GoalContribution'].includes(t));
    expect(own.sort()).toEqual(Object.keys(MONITORING_MEMBER_SENSITIVITY).sort());
  });

  it('opens them only to roles cleared for internal data', () => {
    const fields = [...MONITORING_ROOT_FIELDS.query.map((f) => `Query.${f}`), ...MONITORING_ROOT_FIELDS.mutation.map((f) => `Mutation.${f}`)];
    for (const field of fields) {
      const policy = OPERATION_POLICIES[field as keyof typeof OPERATION_POLICIES];
      expect(policy, field).toBeDefined();
      expect(policy, field).not.toBe(PUBLIC);
      if (!policy || policy === PUBLIC) continue;
      for (const role of rolesFor(policy)) expect(clears(ROLE_CLEARANCE[role], 'internal'), `${field} ${role}`).toBe(true);
    }
  });
});
