import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { errorCodes, type ErrorCode } from '../../errors.js';

/** Every error answer has this body; `code` is stable, `message` is for people. */
export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(errorCodes) as ErrorCode[]),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  {
    $id: 'ErrorResponse',
    description: 'An error. The meaning and HTTP status of each code is listed in x-error-codes.',
  },
);

const errorRef = Type.Ref('ErrorResponse');

/** Error answers a route can give, by status, for its response schema. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries([...statuses, 500].map((status) => [status, errorRef]));
}

export const RunIdParams = Type.Object({
  id: Type.String({ description: 'Run id (a UUID).' }),
});

/** The most steps a run may have; no step number past it names anything. */
export const maxRunSteps = 1_000_000;

export const StepParams = Type.Object({
  id: Type.String({ description: 'Run id (a UUID).' }),
  step: Type.Integer({
    minimum: 0,
    maximum: maxRunSteps,
    description: 'Training step the artifact was written at.',
  }),
});

export const DateTime = Type.String({ format: 'date-time' });

export const NullableDateTime = Type.Union([DateTime, Type.Null()]);

export const NullableString = Type.Union([Type.String(), Type.Null()]);

/** A binary download, described for the OpenAPI document; the body is streamed, not serialized. */
export function binaryResponse(mediaType: string, description: string) {
  return {
    description,
    content: {
      [mediaType]: { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) },
    },
  };
}
