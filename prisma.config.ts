import { defineConfig } from 'prisma/config';

// Same default as src/config.ts, so the CLI and the server agree on a developer machine.
const databaseUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/ganforge';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: databaseUrl },
});
