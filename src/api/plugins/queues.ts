import fp from 'fastify-plugin';
import { createTrainingQueue, type TrainingQueue } from '../../queue/training-queue.js';

declare module 'fastify' {
  interface FastifyInstance {
    trainingQueue: TrainingQueue;
  }
}

/** The training queue, opened on the shared Redis connection and closed with the app. */
export const queuesPlugin = fp(
  async (app) => {
    const trainingQueue = createTrainingQueue(app.redis, app.config.prefix);
    trainingQueue.on('error', (err) => app.log.error({ err }, 'training queue error'));
    app.decorate('trainingQueue', trainingQueue);
    app.addHook('onClose', async () => {
      await trainingQueue.close();
    });
  },
  { name: 'ganforge-queues', dependencies: ['ganforge-infrastructure'] },
);
