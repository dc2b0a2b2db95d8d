import { Type } from 'typebox';

const seq = Type.String({ pattern: '^\\d+-\\d+$', description: 'An event seq (stream id).' });

export const StreamQuery = Type.Object(
  { after: Type.Optional(seq) },
  { additionalProperties: false },
);

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(seq),
});
