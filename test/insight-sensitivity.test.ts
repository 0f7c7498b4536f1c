import { describe, expect, it } from 'vitest';
import { isObjectType } from 'graphql';
import { schema } from '../resolvers/schema.ts';
import { INSIGHT_MEMBER_SENSITIVITY } from '../services/insight-sensitivity.ts';
import { OPERATION_POLICIES, ROLE_CLEARANCE, rolesFor } from '../services/authorization.ts';
import { clears } from '../modeling/catalog/sensitivity.ts';

const INSIGHT_ROOTS = { query: ['audienceComparison', 'attributionTree'], mutation: ['createLookalikeAudience', 'draftStrategyFromInsight'] };
/** Types other areas classify (audiences, the decision layer): reached, not owned. */
const ELSEWHERE = new Set(['Audience', 'DecisionChange']);

describe('sensitivity of insight', () => {
  it('classifies every field of every type insight exposes, and nothing the schema lacks', () => {
    for (const [typeName, fields] of Object.entries(INSIGHT_MEMBER_SENSITIVITY)) {
      const type = schema.getType(typeName);
      expect(type && isObjectType(type), typeName).toBe(true);
      if (!type || !isObjectType(type)) continue;
      expect(Object.keys(type.getFields()).sort(), typeName).toEqual(Object.keys(fields).sort());
    }
  });

  it('reaches exactly the classified types from the insight operations', () => {
    const reached = new Set<string>();
    const visit = (name: string) => {
      const type = schema.getType(name);
      if (!type || !isObjectType(type) || reached.has(name) || ELSEWHERE.has(name)) return;
      reached.add(name);
      for (const field of Object.values(type.getFields())) visit(String(field.type).replace(/[[\]!]/g, ''));
    };
    for (const root of INSIGHT_ROOTS.query) visit(String(schema.getQueryType()?.getFields()[root]?.type).replace(/[[\]!]/g, ''));
    for (const root of INSIGHT_ROOTS.mutation) visit(String(schema.getMutationType()?.getFields()[root]?.type).replace(/[[\]!]/g, ''));
    expect([...reached].sort()).toEqual(Object.keys(INSIGHT_MEMBER_SENSITIVITY).sort());
  });

  it('opens aggregate insight to roles cleared for internal data, analysts included', () => {
    expect(OPERATION_POLICIES['Query.audienceComparison']).toBe('insight.read');
    expect(OPERATION_POLICIES['Query.attributionTree']).toBe('insight.read');
    for (const role of rolesFor('insight.strategy')) {
      expect(rolesFor('audiences.manage'), role).toContain(role);
      expect(rolesFor('decisions.manage'), role).toContain(role);
    }
    expect(rolesFor('insight.read')).toContain('analyst');
    for (const role of rolesFor('insight.read')) expect(clears(ROLE_CLEARANCE[role], 'internal'), role).toBe(true);
  });
});
