import {
  getNamedType,
  isAbstractType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLInterfaceType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** One field of an operation's response: its schema coordinate (`Audience.members`) and its node. */
export interface OperationField {
  readonly coordinate: string;
  readonly node: FieldNode;
}

/**
 * Every field an operation's response holds, once per response path, as execution will run
 * them: fields with the same response key at the same place merge (so a fragment spread
 * twice counts once), an alias is a field of its own, and fragments are expanded under the
 * fields that spread them. `@skip` and `@include` are not evaluated: a field that may run
 * counts, so a limit computed from this list never under-counts. Introspection fields are
 * left out.
 *
 * ```ts
 * operationFields(schema, parse('{ a: customer(id: "1") { id } b: customer(id: "2") { id } }'), op)
 * // [Query.customer, Customer.id, Query.customer, Customer.id]
 * ```
 */
export function operationFields(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): OperationField[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const root =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  const fields: OperationField[] = [];
  if (!root) return fields;

  const visit = (parent: GraphQLObjectType | GraphQLInterfaceType, selectionSets: readonly SelectionSetNode[]) => {
    const byKey = new Map<string, FieldNode[]>();
    for (const selectionSet of selectionSets) collect(schema, fragments, parent, selectionSet, byKey, new Set());
    for (const nodes of byKey.values()) {
      const node = nodes[0] as FieldNode;
      const name = node.name.value;
      const field = name.startsWith('__') ? undefined : parent.getFields()[name];
      if (!field) continue;
      fields.push({ coordinate: `${parent.name}.${name}`, node });
      const type = getNamedType(field.type);
      if (isObjectType(type) || isInterfaceType(type))
        visit(
          type,
          nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])),
        );
    }
  };
  visit(root, [operation.selectionSet]);
  return fields;
}

/** Groups the fields of one selection set by response key, expanding fragments that apply to `parent`. */
function collect(
  schema: GraphQLSchema,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  byKey: Map<string, FieldNode[]>,
  spread: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const group = byKey.get(key);
      if (group) group.push(selection);
      else byKey.set(key, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (applies(schema, selection.typeCondition?.name.value, parent)) collect(schema, fragments, parent, selection.selectionSet, byKey, spread);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (spread.has(name) || !fragment) continue;
      spread.add(name);
      if (applies(schema, fragment.typeCondition.name.value, parent)) collect(schema, fragments, parent, fragment.selectionSet, byKey, spread);
    }
  }
}

/** Whether a fragment's type condition can match objects of `parent` (abstract types: conservatively yes). */
function applies(schema: GraphQLSchema, condition: string | undefined, parent: GraphQLCompositeType): boolean {
  if (condition === undefined || condition === parent.name) return true;
  const type = schema.getType(condition);
  return type !== undefined && (isAbstractType(type) || isAbstractType(parent));
}
