import { describe, expect, it } from 'vitest';
import { isObjectType } from 'graphql';
import { schema } from '../resolvers/schema.ts';
import { RESULTS_MEMBER_SENSITIVITY } from '../services/results-sensitivity.ts';
import { OPERATION_POLICIES, ROLE_CLEARANCE, rolesFor } from '../services/authorization.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';

const bare = (type: unknown) => String(type).replace(/[[\]!]/g, '');

describe('sensitivity of experiment results and goals', () => {
  it('classifies every field of every type they expose, and nothing the schema lacks', () => {
    for (const [typeName, fields] of Object.entries(RESULTS_MEMBER_SENSITIVITY)) {
      const type = schema.getType(typeName);
      expect(type && isObjectType(type), typeName).toBe(true);
      if (!type || !isObjectType(type)) continue;
      expect(Object.keys(type.getFields()).sort(), typeName).toEqual(Object.keys(fields).sort());
    }
  });

  it('reaches exactly the classified types from experimentResults, goals and the goal mutations', () => {
    const reached = new Set<string>();
    const visit = (name: string) => {
      const type = schema.getType(name);
      if (!type || !isObjectType(type) || reached.has(name)) return;
      reached.add(name);
      for (const field of Object.values(type.getFields())) visit(bare(field.type));
    };
    for (const root of ['experimentResults', 'goals']) visit(bare(schema.getQueryType()?.getFields()[root]?.type));
    for (const root of ['createGoal', 'updateGoal']) visit(bare(schema.getMutationType()?.getFields()[root]?.type));
    expect([...reached].sort()).toEqual(Object.keys(RESULTS_MEMBER_SENSITIVITY).sort());
  });

  it('opens them only to roles cleared for internal data', () => {
    for (const field of ['Query.experimentResults', 'Query.goals', 'Mutation.createGoal', 'Mutation.updateGoal'] as const)
      for (const role of rolesFor(OPERATION_POLICIES[field])) expect(clears(ROLE_CLEARANCE[role], 'internal'), `${field} ${role}`).toBe(true);
  });
});
