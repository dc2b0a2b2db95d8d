import swagger from '@fastify/swagger';
import fp from 'fastify-plugin';
import { errorCodes } from '../../errors.js';
import { ErrorResponseSchema } from '../schemas/common.js';
import { RunEventSchema } from '../schemas/stream.js';

/** Every error code with its HTTP status and meaning, as an OpenAPI extension. */
const errorCodeExtension: Record<string, unknown> = {
  'x-error-codes': Object.fromEntries(
    Object.entries(errorCodes).map(([code, { status, description }]) => [
      code,
      { status, description },
    ]),
  ),
};

/**
 * The OpenAPI document, built from the route schemas (so it cannot drift from what the routes
 * validate). scripts/openapi.ts writes it to openapi.yaml; a test checks the two agree.
 */
export const docsPlugin = fp(
  async (app) => {
    app.addSchema(ErrorResponseSchema);
    app.addSchema(RunEventSchema);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'ganforge API',
          version: '1.0.0',
          description:
            'Train generative adversarial networks, follow them live and fetch what they produce.',
        },
        tags: [
          { name: 'runs', description: 'Training runs: submit, list, cancel, follow.' },
          { name: 'artifacts', description: 'Scalars, sample grids and checkpoints of a run.' },
          {
            name: 'evaluations',
            description: 'Scores of checkpoints with their protocol, and leaderboards.',
          },
          { name: 'datasets', description: 'Built-in datasets.' },
          { name: 'health', description: 'Liveness of the API and its dependencies.' },
        ],
        ...errorCodeExtension,
      },
      // Shared schemas keep their $id as their name under components.schemas.
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
      },
    });
  },
  { name: 'ganforge-docs' },
);
