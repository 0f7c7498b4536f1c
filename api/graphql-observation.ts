import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { SpanStatusCode } from '@opentelemetry/api';
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { OPERATION_CLASS_OF } from '../services/authorization.ts';
import { currentObservation } from './request-observation.ts';

/** The longest operation name written in logs and traces (operation names are client-chosen). */
export const MAX_OPERATION_NAME = 100;

/** What an operation is, from its document alone: root fields and their class. */
interface OperationShape {
  readonly rootFields: readonly string[];
  readonly operationClass: string;
}

const CLASS_OF: Readonly<Record<string, string | null>> = OPERATION_CLASS_OF;

/**
 * Fills the request's observation (access log, metrics, trace) with what the GraphQL
 * operation was: its name (capped), type, root fields and operation class once resolved,
 * and the error codes of the answer. The shape of an operation is computed once per
 * document Apollo caches.
 */
export function graphqlObservationPlugin(): ApolloServerPlugin {
  const shapes = new WeakMap<OperationDefinitionNode, OperationShape>();
  const listener: GraphQLRequestListener<object> = {
    async didResolveOperation({ operation, document, operationName }) {
      const observation = currentObservation();
      if (!observation || !operation) return;
      let shape = shapes.get(operation);
      if (!shape) {
        shape = shapeOf(document, operation);
        shapes.set(operation, shape);
      }
      const name = (operationName ?? operation.name?.value)?.slice(0, MAX_OPERATION_NAME);
      if (name !== undefined) observation.operationName = name;
      observation.operationType = operation.operation;
      observation.rootFields = shape.rootFields;
      observation.operationClass = shape.operationClass;
      const span = observation.operationSpan;
      if (span?.isRecording()) {
        span.updateName(name ? `${operation.operation} ${name}` : operation.operation);
        span.setAttribute('graphql.operation.type', operation.operation);
        if (name) span.setAttribute('graphql.operation.name', name);
        span.setAttribute('strata.graphql.root_fields', [...shape.rootFields]);
        span.setAttribute('strata.operation_class', shape.operationClass);
      }
    },
    async willSendResponse({ response }) {
      const observation = currentObservation();
      if (!observation) return;
      const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
      for (const error of errors ?? []) {
        const code = error.extensions?.code;
        if (typeof code === 'string') observation.errorCodes.add(code);
      }
      if (errors?.length && observation.operationSpan?.isRecording()) {
        observation.operationSpan.setAttribute('strata.graphql.error_codes', [...observation.errorCodes]);
        observation.operationSpan.setStatus({ code: SpanStatusCode.ERROR });
      }
    },
  };
  return { requestDidStart: async () => listener };
}

/**
 * The root fields an operation selects (fragments at the root expanded; `__typename` and
 * introspection left out) and its class: the one class of its fields, `public` for fields no
 * limit applies to, `mixed` for several, `introspection` for an introspection query.
 */
function shapeOf(document: DocumentNode, operation: OperationDefinitionNode): OperationShape {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
  const fields = new Set<string>();
  const visit = (selectionSet: SelectionSetNode, seen: Set<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) visit(fragment, seen);
      }
    }
  };
  visit(operation.selectionSet, new Set());
  const root = operation.operation === 'mutation' ? 'Mutation' : operation.operation === 'subscription' ? 'Subscription' : 'Query';
  const schemaFields = [...fields].filter((f) => !f.startsWith('__')).sort();
  const classes = new Set(schemaFields.map((f) => CLASS_OF[`${root}.${f}`] ?? 'public'));
  const operationClass =
    schemaFields.length === 0
      ? fields.size > 0 && [...fields].some((f) => f !== '__typename')
        ? 'introspection'
        : 'public'
      : classes.size === 1
        ? ([...classes][0] as string)
        : 'mixed';
  return { rootFields: schemaFields, operationClass };
}
