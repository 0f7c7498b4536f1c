import { describe, expect, it } from 'vitest';
import { isObjectType } from 'graphql';
import { schema } from '../resolvers/schema.ts';
import { DECISION_MEMBER_SENSITIVITY } from '../services/decision-sensitivity.ts';
import { OPERATION_POLICIES, ROLE_CLEARANCE, rolesFor } from '../services/authorization.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';

describe('sensitivity of the decision layer', () => {
  it('classifies every field of every type the decision layer exposes, and nothing the schema lacks', () => {
    for (const [typeName, fields] of Object.entries(DECISION_MEMBER_SENSITIVITY)) {
      const type = schema.getType(typeName);
      expect(type && isObjectType(type), typeName).toBe(true);
      if (!type || !isObjectType(type)) continue;
      expect(Object.keys(type.getFields()).sort(), typeName).toEqual(Object.keys(fields).sort());
    }
  });

  it('reaches every decision type from the decision operations', () => {
    const reached = new Set<string>();
    const visit = (name: string) => {
      const type = schema.getType(name);
      if (!type || !isObjectType(type) || reached.has(name)) return;
      reached.add(name);
      for (const field of Object.values(type.getFields())) visit(String(field.type).replace(/[[\]!]/g, ''));
    };
    for (const root of ['placements', 'contents', 'strategies', 'experiments', 'decisionHistory'])
      visit(String(schema.getQueryType()?.getFields()[root]?.type).replace(/[[\]!]/g, ''));
    for (const root of ['decide', 'savePlacement']) visit(String(schema.getMutationType()?.getFields()[root]?.type).replace(/[[\]!]/g, ''));
    expect([...reached].sort()).toEqual(Object.keys(DECISION_MEMBER_SENSITIVITY).sort());
  });

  it('lets only roles cleared for personal data decide, and only cleared ones read definitions', () => {
    expect(OPERATION_POLICIES['Mutation.decide']).toBe('decisions.decide');
    for (const role of rolesFor('decisions.decide')) expect(clears(ROLE_CLEARANCE[role], 'personal'), role).toBe(true);
    for (const role of rolesFor('decisions.read')) expect(clears(ROLE_CLEARANCE[role], 'internal'), role).toBe(true);
  });
});
