import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildOpenApiDocument } from '../../src/api/app.js';
import { errorCodes } from '../../src/errors.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: {
      ErrorResponse: { properties: { error: { properties: { code: { enum: string[] } } } } };
    };
  };
  'x-error-codes': Record<string, { status: number; description: string }>;
}

const committedText = await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8');
const committed = parse(committedText) as OpenApiDocument;

describe('openapi.yaml', () => {
  it('is exactly what the route schemas generate (run `npm run openapi` after changing them)', async () => {
    expect(await buildOpenApiDocument()).toBe(committedText);
  });

  it('documents every error code with its status', () => {
    const codes = Object.keys(errorCodes);
    const documentedEnum =
      committed.components.schemas.ErrorResponse.properties.error.properties.code.enum;

    expect([...documentedEnum].sort()).toEqual([...codes].sort());
    for (const [code, { status }] of Object.entries(errorCodes)) {
      expect(committed['x-error-codes'][code]?.status, code).toBe(status);
    }
  });

  it('lists every route, and every operation answers errors with the ErrorResponse schema', () => {
    expect(Object.keys(committed.paths).sort()).toEqual([
      '/healthz',
      '/v1/datasets',
      '/v1/evaluations',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/runs/{id}/cancel',
      '/v1/runs/{id}/checkpoints',
      '/v1/runs/{id}/checkpoints/{step}/file',
      '/v1/runs/{id}/checkpoints/{step}/samples.png',
      '/v1/runs/{id}/evaluations',
      '/v1/runs/{id}/samples',
      '/v1/runs/{id}/samples/{step}.png',
      '/v1/runs/{id}/scalars',
      '/v1/runs/{id}/stream',
    ]);
    for (const [url, operations] of Object.entries(committed.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const errors = Object.entries(operation.responses).filter(([status]) => status >= '400');
        expect(errors.length, `${method} ${url}`).toBeGreaterThan(0);
        for (const [, response] of errors) {
          expect(response.content?.['application/json']?.schema?.$ref).toBe(
            '#/components/schemas/ErrorResponse',
          );
        }
      }
    }
  });
});
