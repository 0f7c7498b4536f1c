import {
  defaultFieldResolver,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getVariableValues,
  GraphQLError as GraphQLErrorClass,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  locatedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { createRequire } from 'node:module';
import { simpleVariableCoercer, type VariableCoercer } from './variable-coercion.ts';

/**
 * graphql-js's own formatter of values in its error messages (an internal module, loaded
 * through require: the CommonJS build Pothos and Apollo use, and no bundler alias applies).
 */
const { inspect } = createRequire(import.meta.url)('graphql/jsutils/inspect.js') as { inspect: (value: unknown) => string };

/**
 * A plain `decide` mutation (`mutation { decide(...) { placement decisionId content { key payload } ... } }`:
 * the one root field, any arguments, below it plain fields without arguments, aliases and
 * `__typename` allowed, each response key at most once, no fragments or directives), executed
 * without graphql-js's per-field work (an info object, an argument object and a field map for
 * every field of every decision), issue 17.
 *
 * Nothing is skipped that decides the answer: `Mutation.decide` runs through the schema's own
 * resolver (the policy check of resolvers/policies.ts, then the decision service), and every
 * field below it through its own resolver, completed as graphql-js completes it (`serialize`
 * of each scalar, the non-null checks, the same located errors with the same paths, null
 * propagated to the nearest nullable field, errors in the order graphql-js collects them,
 * promises awaited as graphql-js awaits them). The resolvers below the root field receive
 * an info object made once per selection (its path names the field without list indexes),
 * and a shared empty argument object. Unlike a profile read, a mutation cannot be run a
 * second time, so once `decide` has run this executor completes the answer itself, whatever
 * it is; before that, variables graphql-js would refuse or arguments it would fail to coerce
 * make it return undefined, and the caller runs graphql-js `execute` (which then reports them
 * without running the resolver). test/decide-executor.test.ts compares its answers with
 * graphql-js byte for byte.
 */
export interface DecidePlan {
  readonly operation: OperationDefinitionNode;
  readonly root: FieldPlan;
  readonly field: GraphQLField<unknown, unknown>;
  readonly parentType: GraphQLObjectType;
  readonly path: Path;
  /** The operation's variables coerced without graphql-js when they are plain strings and lists of them (api/variable-coercion.ts). */
  readonly variables: VariableCoercer | null;
}

interface FieldPlan {
  readonly key: string;
  readonly node: FieldNode;
  readonly fieldNodes: readonly FieldNode[];
  /** Null for `__typename`. */
  readonly returnType: GraphQLOutputType | null;
  readonly parentType: GraphQLObjectType;
  readonly resolve: Resolver;
  readonly info: GraphQLResolveInfo;
  /** The fields of the object type this field's values complete to (null for leaves). */
  readonly fields: readonly FieldPlan[] | null;
}

/** graphql-js's response path: the same shape, so `pathToArray` and its errors agree. */
interface Path {
  readonly prev: Path | undefined;
  readonly key: string | number;
  readonly typename: string | undefined;
}

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/** The root field this executor serves. */
const DECIDE = 'decide';
/** Arguments of the fields below the root field, none of which takes any. */
const NO_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The plan of `operation` if it is a plain `decide` this executor serves, else null. */
export function planDecide(schema: GraphQLSchema, operation: OperationDefinitionNode): DecidePlan | null {
  const mutation = schema.getMutationType();
  if (operation.operation !== 'mutation' || !mutation || operation.directives?.length) return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD || root.name.value !== DECIDE || root.directives?.length || !root.selectionSet) return null;
  const field = mutation.getFields()[DECIDE];
  if (!field) return null;
  const make = (parentType: GraphQLObjectType, node: FieldNode, def: GraphQLField<unknown, unknown> | null): FieldPlan | null => {
    const key = node.alias?.value ?? node.name.value;
    const returnType = def?.type ?? null;
    const info: GraphQLResolveInfo = {
      fieldName: node.name.value,
      fieldNodes: [node],
      returnType: returnType as GraphQLOutputType,
      parentType,
      path: { prev: undefined, key, typename: parentType.name },
      schema,
      fragments: {},
      rootValue: undefined,
      operation,
      variableValues: {},
    };
    let fields: FieldPlan[] | null = null;
    if (returnType) {
      const named = getNamedType(returnType);
      if (isObjectType(named)) {
        if (named.isTypeOf || !node.selectionSet) return null;
        fields = planFields(named, node.selectionSet, make);
        if (!fields) return null;
      } else if (!isLeafType(named) || node.selectionSet) return null;
    }
    return { key, node, fieldNodes: [node], returnType, parentType, resolve: (def?.resolve ?? defaultFieldResolver) as Resolver, info, fields };
  };
  const plan = make(mutation, root, field as GraphQLField<unknown, unknown>);
  if (!plan) return null;
  return {
    operation,
    root: plan,
    field: field as GraphQLField<unknown, unknown>,
    parentType: mutation,
    path: { prev: undefined, key: plan.key, typename: mutation.name },
    variables: simpleVariableCoercer(schema, operation.variableDefinitions ?? []),
  };
}

/** The plain fields of a selection set (no fragments, directives or arguments, each response key once), or null. */
function planFields(
  type: GraphQLObjectType,
  set: SelectionSetNode,
  make: (parentType: GraphQLObjectType, node: FieldNode, def: GraphQLField<unknown, unknown> | null) => FieldPlan | null,
): FieldPlan[] | null {
  const out: FieldPlan[] = [];
  const keys = new Set<string>();
  const defs = type.getFields();
  for (const selection of set.selections) {
    if (selection.kind !== Kind.FIELD || selection.directives?.length || selection.arguments?.length) return null;
    const key = selection.alias?.value ?? selection.name.value;
    if (keys.has(key)) return null;
    keys.add(key);
    const name = selection.name.value;
    if (name === '__typename') {
      if (selection.selectionSet) return null;
      const made = make(type, selection, null);
      if (!made) return null;
      out.push(made);
      continue;
    }
    const def = Object.hasOwn(defs, name) ? defs[name] : undefined;
    if (!def || def.args.length > 0) return null;
    const made = make(type, selection, def as GraphQLField<unknown, unknown>);
    if (!made) return null;
    out.push(made);
  }
  return out;
}

/**
 * The result graphql-js `execute` would give for `plan` with these variables, or undefined
 * (before running anything) when graphql-js must run instead.
 */
export async function executeDecide(
  schema: GraphQLSchema,
  plan: DecidePlan,
  contextValue: unknown,
  rawVariables: Record<string, unknown> | undefined,
): Promise<ExecutionResult | undefined> {
  const inputs = rawVariables ?? {};
  const coerced = plan.variables?.(inputs) ?? getVariableValues(schema, plan.operation.variableDefinitions ?? [], inputs);
  if (!coerced.coerced) return undefined;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(plan.field, plan.root.node, coerced.coerced);
  } catch {
    return undefined;
  }
  const root = plan.root;
  const info: GraphQLResolveInfo = {
    fieldName: root.node.name.value,
    fieldNodes: root.fieldNodes,
    returnType: plan.field.type,
    parentType: plan.parentType,
    path: plan.path,
    schema,
    fragments: {},
    rootValue: undefined,
    operation: plan.operation,
    variableValues: coerced.coerced,
  };
  const state: State = { contextValue, errors: [], nulled: new Set() };
  let data: Record<string, unknown> | null;
  try {
    // As executeField: the resolver's promise, then completion, then a failure located at the field.
    const value = await Promise.resolve(root.resolve(undefined, args, contextValue, info)).then((resolved) =>
      completeValue(state, plan.field.type, root, plan.path, resolved),
    );
    data = Object.create(null) as Record<string, unknown>;
    data[root.key] = value;
  } catch (rawError) {
    const error = locatedError(rawError, root.fieldNodes, pathToArray(plan.path));
    if (isNonNullType(plan.field.type)) {
      // Propagated to the operation: `data: null`, the error at the top (graphql-js adds it at no path).
      addError(state, error, undefined);
      data = null;
    } else {
      addError(state, error, plan.path);
      data = Object.create(null) as Record<string, unknown>;
      (data as Record<string, unknown>)[root.key] = null;
    }
  }
  return state.errors.length === 0 ? { data } : { errors: state.errors, data };
}

interface State {
  readonly contextValue: unknown;
  readonly errors: GraphQLError[];
  /** The positions nulled by an error (graphql-js's CollectedErrors: a later error under one of them is dropped). */
  readonly nulled: Set<Path | undefined>;
}

function addError(state: State, error: GraphQLError, path: Path | undefined): void {
  for (let at: Path | undefined = path; at !== undefined; at = at.prev) if (state.nulled.has(at)) return;
  if (state.nulled.has(undefined)) return;
  state.nulled.add(path);
  state.errors.push(error);
}

function pathToArray(path: Path | undefined): (string | number)[] {
  const out: (string | number)[] = [];
  for (let at = path; at !== undefined; at = at.prev) out.push(at.key);
  return out.reverse();
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function handleFieldError(state: State, error: GraphQLError, returnType: GraphQLOutputType, path: Path): null {
  if (isNonNullType(returnType)) throw error;
  addError(state, error, path);
  return null;
}

/** graphql-js's completeValue for the types a plan admits (no abstract types, no isTypeOf). */
function completeValue(state: State, returnType: GraphQLOutputType, field: FieldPlan, path: Path, result: unknown): unknown {
  if (result instanceof Error) throw result;
  if (isNonNullType(returnType)) {
    const completed = completeValue(state, returnType.ofType, field, path, result);
    if (completed === null) throw new Error(`Cannot return null for non-nullable field ${field.parentType.name}.${field.node.name.value}.`);
    return completed;
  }
  if (result === null || result === undefined) return null;
  if (isListType(returnType)) return completeList(state, returnType.ofType, field, path, result);
  if (isLeafType(returnType)) {
    const serialized = returnType.serialize(result);
    if (serialized === null || serialized === undefined) {
      throw new Error(`Expected \`${inspect(returnType)}.serialize(${inspect(result)})\` to return non-nullable value, returned: ${inspect(serialized)}`);
    }
    return serialized;
  }
  if (isObjectType(returnType) && field.fields) return executeFields(state, returnType, result, path, field.fields);
  throw new Error(`Cannot complete value of unexpected output type: ${String(returnType)}`);
}

function completeList(state: State, itemType: GraphQLOutputType, field: FieldPlan, path: Path, result: unknown): unknown {
  if (typeof result !== 'object' || typeof (result as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new GraphQLErrorClass(`Expected Iterable, but did not find one for field "${field.parentType.name}.${field.node.name.value}".`);
  }
  let containsPromise = false;
  const completed = Array.from(result as Iterable<unknown>, (item, index) => {
    const itemPath: Path = { prev: path, key: index, typename: undefined };
    try {
      const value = isPromise(item)
        ? item.then((resolved) => completeValue(state, itemType, field, itemPath, resolved))
        : completeValue(state, itemType, field, itemPath, item);
      if (isPromise(value)) {
        containsPromise = true;
        return value.then(undefined, (rawError: unknown) =>
          handleFieldError(state, locatedError(rawError, field.fieldNodes, pathToArray(itemPath)), itemType, itemPath),
        );
      }
      return value;
    } catch (rawError) {
      return handleFieldError(state, locatedError(rawError, field.fieldNodes, pathToArray(itemPath)), itemType, itemPath);
    }
  });
  return containsPromise ? Promise.all(completed) : completed;
}

function executeFields(state: State, type: GraphQLObjectType, source: unknown, path: Path, fields: readonly FieldPlan[]): unknown {
  const results = Object.create(null) as Record<string, unknown>;
  let containsPromise = false;
  try {
    for (const field of fields) {
      const fieldPath: Path = { prev: path, key: field.key, typename: type.name };
      const result = executeField(state, source, field, fieldPath);
      results[field.key] = result;
      if (isPromise(result)) containsPromise = true;
    }
  } catch (error) {
    // As graphql-js: the other fields' promises are waited for (they may add errors) before failing.
    if (containsPromise)
      return promiseForObject(results).finally(() => {
        throw error;
      });
    throw error;
  }
  return containsPromise ? promiseForObject(results) : results;
}

function executeField(state: State, source: unknown, field: FieldPlan, path: Path): unknown {
  const returnType = field.returnType;
  if (returnType === null) return field.parentType.name;
  try {
    const result = field.resolve(source, NO_ARGUMENTS, state.contextValue, field.info);
    const completed = isPromise(result)
      ? result.then((resolved) => completeValue(state, returnType, field, path, resolved))
      : completeValue(state, returnType, field, path, result);
    if (isPromise(completed)) {
      return completed.then(undefined, (rawError: unknown) =>
        handleFieldError(state, locatedError(rawError, field.fieldNodes, pathToArray(path)), returnType, path),
      );
    }
    return completed;
  } catch (rawError) {
    return handleFieldError(state, locatedError(rawError, field.fieldNodes, pathToArray(path)), returnType, path);
  }
}

async function promiseForObject(object: Record<string, unknown>): Promise<Record<string, unknown>> {
  const keys = Object.keys(object);
  const values = await Promise.all(Object.values(object));
  const out = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < keys.length; i += 1) out[keys[i] as string] = values[i];
  return out;
}
