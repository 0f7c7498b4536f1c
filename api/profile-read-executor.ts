import {
  type ArgumentNode,
  defaultFieldResolver,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isNonNullType,
  Kind,
  locatedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * A plain profile read, `customer(id) { id tags { key value masked } }` (aliases, `__typename`
 * and any subset of those fields, each at most once, no fragments or directives), executed
 * without graphql-js's per-field work (an info object, an argument object, a path and a
 * result map for every `key` and `value` of every tag: the largest share of what the app
 * teams' hot path allocates, and so of the scavenges that set its p99, issue 13).
 *
 * Nothing is skipped that decides the answer: `Query.customer` runs through the schema's own
 * resolver (the policy check of resolvers/policies.ts, the request's profile loader with its
 * scope, masking and personal-data read log), and so do `Customer.id`, `Customer.tags` and
 * each tag's `key`, `value` and `masked`. The answer is the object graphql-js would build,
 * key for key and in the same order, and a failure of `customer` becomes the same located
 * error with `customer: null`. A value this executor does not complete the way graphql-js
 * would without checks (a promise, a non-string key, a list that is not an array, anything
 * but a JSON scalar as a tag value) makes it return undefined, as does a variable set
 * graphql-js would refuse: the caller then runs graphql-js `execute`, which answers from the
 * request's profile loader (DataLoader caches the profile, so the customer is neither read
 * nor logged twice). test/profile-read-executor.test.ts compares its answers with graphql-js
 * byte for byte.
 */
export interface ProfileReadPlan {
  readonly operation: OperationDefinitionNode;
  readonly responseKey: string;
  readonly node: FieldNode;
  readonly field: GraphQLField<unknown, unknown>;
  readonly parentType: GraphQLObjectType;
  /** The selection on Customer in order: the response key and what it is. */
  readonly customer: readonly Selected[];
  readonly customerTypename: string;
  /**
   * The variable `id` is given by when it is the operation's only variable, a `String!`
   * without a default: a string value is then its own coercion, as graphql-js would find.
   */
  readonly idVariable: string | null;
  readonly path: GraphQLResolveInfo['path'];
  readonly fieldNodes: readonly FieldNode[];
}

type Selected =
  | { readonly key: string; readonly kind: 'typename' }
  | { readonly key: string; readonly kind: 'string' | 'boolean' | 'scalar'; readonly resolve: Resolver; readonly info: GraphQLResolveInfo }
  | {
      readonly key: string;
      readonly kind: 'tags';
      readonly resolve: Resolver;
      readonly info: GraphQLResolveInfo;
      readonly typename: string;
      readonly item: readonly Selected[];
    };

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/** Arguments of the fields below `customer`, none of which takes any. */
const NO_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});
/** What Customer and TagValue fields may be asked for, and how they complete. */
const CUSTOMER_FIELDS: Readonly<Record<string, 'string' | 'tags'>> = { id: 'string', tags: 'tags' };
const TAG_FIELDS: Readonly<Record<string, 'string' | 'scalar' | 'boolean'>> = { key: 'string', value: 'scalar', masked: 'boolean' };

/** The plan of `operation` if it is a plain profile read this executor serves, else null. */
export function planProfileRead(schema: GraphQLSchema, operation: OperationDefinitionNode): ProfileReadPlan | null {
  const query = schema.getQueryType();
  if (operation.operation !== 'query' || !query || operation.directives?.length) return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || root.name.value !== 'customer' || root.directives?.length || !root.selectionSet) return null;
  const field = query.getFields().customer;
  const customerType = field && getNamedType(field.type);
  const tagsField = customerType && 'getFields' in customerType ? (customerType as GraphQLObjectType).getFields().tags : undefined;
  const tagType = tagsField && (getNamedType(tagsField.type) as GraphQLObjectType);
  if (!field || isNonNullType(field.type) || !customerType || !tagType || !onlyStringId(root.arguments)) return null;
  if ((customerType as GraphQLObjectType).isTypeOf || tagType.isTypeOf) return null;
  const info = (parentType: GraphQLObjectType, node: FieldNode): GraphQLResolveInfo | null => {
    const fieldDef = parentType.getFields()[node.name.value];
    if (!fieldDef) return null;
    // The same fields a resolver gets from graphql-js; the path names the field, without list indexes.
    return {
      fieldName: node.name.value,
      fieldNodes: [node],
      returnType: fieldDef.type,
      parentType,
      path: { prev: undefined, key: node.alias?.value ?? node.name.value, typename: parentType.name },
      schema,
      fragments: {},
      rootValue: undefined,
      operation,
      variableValues: {},
    };
  };
  const customer = selected(root.selectionSet, CUSTOMER_FIELDS, (node, kind) => {
    const fieldInfo = info(customerType as GraphQLObjectType, node);
    if (!fieldInfo) return null;
    const resolve = ((customerType as GraphQLObjectType).getFields()[node.name.value]?.resolve ?? defaultFieldResolver) as Resolver;
    if (kind === 'string') return { key: responseKeyOf(node), kind, resolve, info: fieldInfo };
    if (!node.selectionSet) return null;
    const item = selected(node.selectionSet, TAG_FIELDS, (tagNode, tagKind) => {
      const tagInfo = info(tagType, tagNode);
      if (!tagInfo) return null;
      return {
        key: responseKeyOf(tagNode),
        kind: tagKind,
        resolve: (tagType.getFields()[tagNode.name.value]?.resolve ?? defaultFieldResolver) as Resolver,
        info: tagInfo,
      };
    });
    return item && { key: responseKeyOf(node), kind: 'tags', resolve, info: fieldInfo, typename: tagType.name, item };
  });
  if (!customer) return null;
  return {
    operation,
    responseKey: responseKeyOf(root),
    node: root,
    field: field as GraphQLField<unknown, unknown>,
    parentType: query,
    customer,
    customerTypename: customerType.name,
    idVariable: onlyStringVariable(operation, root),
    path: Object.freeze({ prev: undefined, key: responseKeyOf(root), typename: query.name }),
    fieldNodes: Object.freeze([root]),
  };
}

/** The name of the variable `root`'s `id` is given by, when it is the operation's only variable and a `String!` without default or directives. */
function onlyStringVariable(operation: OperationDefinitionNode, root: FieldNode): string | null {
  const value = root.arguments?.[0]?.value;
  const [definition, ...more] = operation.variableDefinitions ?? [];
  if (value?.kind !== Kind.VARIABLE || !definition || more.length > 0 || definition.defaultValue || definition.directives?.length) return null;
  const type = definition.type;
  if (type.kind !== Kind.NON_NULL_TYPE || type.type.kind !== Kind.NAMED_TYPE || type.type.name.value !== 'String') return null;
  return definition.variable.name.value === value.name.value ? value.name.value : null;
}

/** `(id: $variable)` or `(id: "literal")`, nothing else. */
function onlyStringId(args: readonly ArgumentNode[] | undefined): boolean {
  const [id, ...more] = args ?? [];
  return !!id && more.length === 0 && id.name.value === 'id' && (id.value.kind === Kind.VARIABLE || id.value.kind === Kind.STRING);
}

function responseKeyOf(node: FieldNode): string {
  return node.alias?.value ?? node.name.value;
}

/** The fields of a selection set that has only plain fields among `allowed` (and `__typename`), each response key once; else null. */
function selected<K extends string>(
  set: SelectionSetNode,
  allowed: Readonly<Record<string, K>>,
  make: (node: FieldNode, kind: K) => Selected | null,
): Selected[] | null {
  const out: Selected[] = [];
  const keys = new Set<string>();
  for (const selection of set.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length || selection.arguments?.length) return null;
    const key = responseKeyOf(selection);
    if (keys.has(key)) return null;
    keys.add(key);
    const name = selection.name.value;
    if (name === '__typename') {
      if (selection.selectionSet) return null;
      out.push({ key, kind: 'typename' });
      continue;
    }
    const kind = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (kind === undefined) return null;
    if (kind !== 'tags' && selection.selectionSet) return null;
    const made = make(selection, kind);
    if (!made) return null;
    out.push(made);
  }
  return out;
}

/** Why a value was left to graphql-js. */
const DECLINE = Symbol('decline');

/**
 * The result graphql-js `execute` would give for `plan` with these variables, or undefined
 * when graphql-js must run instead (see `ProfileReadPlan`).
 */
export async function executeProfileRead(
  schema: GraphQLSchema,
  plan: ProfileReadPlan,
  contextValue: unknown,
  rawVariables: Record<string, unknown> | undefined,
): Promise<ExecutionResult | undefined> {
  let args: Record<string, unknown>;
  let variableValues: Record<string, unknown>;
  const given = plan.idVariable === null ? undefined : rawVariables?.[plan.idVariable];
  if (plan.idVariable !== null && typeof given === 'string') {
    variableValues = { [plan.idVariable]: given };
    args = { id: given };
  } else {
    const coerced = getVariableValues(schema, plan.operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) return undefined;
    try {
      args = getArgumentValues(plan.field, plan.node, coerced.coerced);
    } catch {
      return undefined;
    }
    variableValues = coerced.coerced;
  }
  if (typeof args.id !== 'string') return undefined;
  const info: GraphQLResolveInfo = {
    fieldName: plan.node.name.value,
    fieldNodes: plan.fieldNodes,
    returnType: plan.field.type,
    parentType: plan.parentType,
    path: plan.path,
    schema,
    fragments: {},
    rootValue: undefined,
    operation: plan.operation,
    variableValues,
  };
  const resolve = (plan.field.resolve ?? defaultFieldResolver) as Resolver;
  let profile: unknown;
  try {
    profile = await resolve(undefined, args, contextValue, info);
    if (profile instanceof Error) throw profile;
  } catch (rawError) {
    const error: GraphQLError = locatedError(rawError, [plan.node], [plan.responseKey]);
    return { errors: [error], data: { [plan.responseKey]: null } };
  }
  if (profile === null || profile === undefined) return { data: { [plan.responseKey]: null } };
  const customer = complete(plan.customer, profile, contextValue, plan.customerTypename);
  if (customer === DECLINE) return undefined;
  return { data: { [plan.responseKey]: customer } };
}

/** The object graphql-js completes for `source`, or DECLINE. */
function complete(selections: readonly Selected[], source: unknown, contextValue: unknown, typename: string): Record<string, unknown> | typeof DECLINE {
  const out: Record<string, unknown> = {};
  for (const selection of selections) {
    if (selection.kind === 'typename') {
      out[selection.key] = typename;
      continue;
    }
    const value = selection.resolve(source, NO_ARGUMENTS, contextValue, selection.info);
    if (selection.kind === 'tags') {
      if (!Array.isArray(value)) return DECLINE;
      const items: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i += 1) {
        const item = value[i];
        if (item === null || typeof item !== 'object') return DECLINE;
        const completed = complete(selection.item, item, contextValue, selection.typename);
        if (completed === DECLINE) return DECLINE;
        items[i] = completed;
      }
      out[selection.key] = items;
      continue;
    }
    const kind = selection.kind;
    if (kind === 'string' ? typeof value !== 'string' : kind === 'boolean' ? typeof value !== 'boolean' : !isJsonScalar(value)) return DECLINE;
    out[selection.key] = value ?? null;
  }
  return out;
}

function isJsonScalar(value: unknown): boolean {
  return (
    value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
  );
}
