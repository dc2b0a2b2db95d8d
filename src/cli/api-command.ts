/** `ganforge api`: serve the REST and WebSocket API until stopped. */
import { buildApp } from '../api/app.js';
import type { Config } from '../config.js';
import { onShutdown, openServices } from './services.js';

export async function runApi(config: Config): Promise<void> {
  const services = await openServices(config, 'api', { migrate: true });
  const app = await buildApp({
    config,
    prisma: services.prisma,
    redis: services.redis,
    logger: services.logger,
  });
  await app.listen({ host: config.host, port: config.port });
  onShutdown(async () => {
    await app.close();
    await services.close();
  }, services.logger);
}
