/**
 * Request validation. Fastify's default validator coerces types everywhere, which is right for
 * path and query strings (always text on the wire) but wrong for JSON bodies: `"steps": "10"`,
 * `true` or `[2]` would become a number and a mistyped config would run. Bodies are therefore
 * checked as sent; everything else keeps the coercion.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const common: Options = {
  useDefaults: true,
  // Unknown body fields are refused, not silently dropped: a typo in a config is an error.
  removeAdditional: false,
  addUsedSchema: false,
  // One error is enough to answer, and allErrors lets a crafted body cost quadratic time.
  allErrors: false,
  // TypeBox adds annotation keys Ajv does not know; they carry no validation meaning.
  strict: false,
};

const bodyAjv = addFormats(new Ajv({ ...common, coerceTypes: false }));
const textAjv = addFormats(new Ajv({ ...common, coerceTypes: 'array' }));

export const compileRequestValidator: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema);
