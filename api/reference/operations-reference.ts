import { isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { OPERATION_POLICIES, PUBLIC, rolesFor, type Action } from '../../services/authorization.ts';
import { cell, codes, page, table } from './markdown.ts';

type Policies = Readonly<Record<string, Action | typeof PUBLIC>>;

/**
 * `docs/reference/operations.md`: every root query and mutation (and every nested field
 * with a policy of its own) with its arguments, result type, action and the roles allowed.
 */
export function operationsReference(schema: GraphQLSchema, policies: Policies = OPERATION_POLICIES): string {
  const sections = (['Query', 'Mutation'] as const).map((typeName) => {
    const type = schema.getType(typeName);
    const fields = type && isObjectType(type) ? Object.values(type.getFields()).sort((a, b) => a.name.localeCompare(b.name)) : [];
    return [`## ${typeName === 'Query' ? 'Queries' : 'Mutations'}`, fieldTable(typeName, fields, policies)].join('\n\n');
  });
  const nested = Object.keys(policies)
    .filter((coordinate) => !coordinate.startsWith('Query.') && !coordinate.startsWith('Mutation.'))
    .sort()
    .map((coordinate) => {
      const [typeName, fieldName] = coordinate.split('.') as [string, string];
      const type = schema.getType(typeName);
      const field = type && isObjectType(type) ? type.getFields()[fieldName] : undefined;
      return field ? fieldRow(typeName, field, policies) : [];
    })
    .filter((row) => row.length > 0);
  return page('GraphQL operations', 'the printed schema (resolvers/schema.ts) and the policy catalogue (services/authorization.ts)', [
    'Every operation of `POST /graphql`, with the action it takes and the roles that may take it (docs/api.md explains ' +
      'access). `public` operations need no credentials; every other one answers `UNAUTHENTICATED` without credentials ' +
      'and `FORBIDDEN` for a role not listed. Types are GraphQL types; see `codegen/schema.graphql` for every field.',
    ...sections,
    '## Fields with a policy of their own',
    table(HEADERS, nested),
  ]);
}

const HEADERS = ['field', 'arguments', 'returns', 'action', 'roles', 'description'];

function fieldTable(typeName: string, fields: readonly GraphQLField<unknown, unknown>[], policies: Policies): string {
  return table(
    HEADERS,
    fields.map((f) => fieldRow(typeName, f, policies)),
  );
}

function fieldRow(typeName: string, field: GraphQLField<unknown, unknown>, policies: Policies): string[] {
  const policy = policies[`${typeName}.${field.name}`];
  const args = field.args.map((a) => `\`${a.name}: ${String(a.type)}\``).join(', ');
  const roles = policy === undefined ? '(none: the schema refuses to build)' : policy === PUBLIC ? 'anyone' : codes(rolesFor(policy));
  const name = typeName === 'Query' || typeName === 'Mutation' ? field.name : `${typeName}.${field.name}`;
  return [`\`${name}\``, args, `\`${String(field.type)}\``, policy === undefined ? '' : `\`${policy}\``, roles, cell(field.description)];
}
