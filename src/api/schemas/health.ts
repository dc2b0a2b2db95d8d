import { Type } from 'typebox';

export const HealthSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    checks: Type.Object({ database: Type.Literal('ok'), redis: Type.Literal('ok') }),
  },
  { description: 'Database and Redis answer.' },
);
