import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { GanforgeError, isGanforgeError, type ErrorCode } from '../../errors.js';

interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** Turns any error into a status and the one error body every route documents. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (isGanforgeError(err)) {
    // A 500 of ours may carry a cause in its details (paths, driver messages): never sent.
    const details = err.statusCode === 500 ? undefined : err.details;
    return { status: err.statusCode, body: body(err.code, err.message, details) };
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.validation) {
    const issues = fastifyError.validation.map((issue) => ({
      path: issuePath(issue),
      message: issue.message ?? 'is invalid',
    }));
    // `field` names the first issue's field as the config rules' errors do (`evaluation.every`).
    const field = issues[0]?.path.slice(1).replaceAll('/', '.') || undefined;
    const details = { context: fastifyError.validationContext, field, issues };
    return { status: 400, body: body('GANFORGE_ERR_VALIDATION', String(err), details) };
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: malformed JSON, wrong content type, body too large.
    const details = { reason: fastifyError.code };
    return { status: 400, body: body('GANFORGE_ERR_VALIDATION', String(err), details) };
  }
  return { status: 500, body: body('GANFORGE_ERR_INTERNAL', 'internal server error') };
}

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/**
 * The JSON pointer of the field an issue is about. An unknown or a missing key is reported on
 * its parent object; the key itself is what the client needs to see.
 */
function issuePath(issue: ValidationIssue): string {
  const params = issue.params as { additionalProperty?: unknown; missingProperty?: unknown };
  const key = params?.additionalProperty ?? params?.missingProperty;
  if (typeof key === 'string') return `${issue.instancePath}/${key}`;
  return issue.instancePath || '/';
}

function body(code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } };
}

function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorResponse(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: body.error.code, message: body.error.message }, 'request refused');
  return reply.code(status).send(body);
}

/** One error handler and one not-found answer for every route, with a stable code each. */
export const errorsPlugin = fp(
  async (app) => {
    app.setErrorHandler(handleError);
    // PostgreSQL text cannot hold NUL, so an id or filter with one would fail in the driver as
    // a 500; no valid id or name contains it, so it is refused here for every route at once.
    app.addHook('onRequest', async (request) => {
      if (/%00/.test(request.url)) {
        throw new GanforgeError('GANFORGE_ERR_VALIDATION', 'the URL contains a NUL character');
      }
    });
    app.setNotFoundHandler((request, reply) => {
      const err = new GanforgeError(
        'GANFORGE_ERR_NOT_FOUND',
        `no route ${request.method} ${request.url}`,
      );
      return handleError(err, request, reply);
    });
  },
  { name: 'ganforge-errors' },
);
