import fp from 'fastify-plugin';
import { createEvaluationQueue, type EvaluationQueue } from '../../queue/evaluation-queue.js';
import { createTrainingQueue, type TrainingQueue } from '../../queue/training-queue.js';

declare module 'fastify' {
  interface FastifyInstance {
    trainingQueue: TrainingQueue;
    evaluationQueue: EvaluationQueue;
  }
}

/** The training and evaluation queues, opened on the shared Redis connection, closed with the app. */
export const queuesPlugin = fp(
  async (app) => {
    const trainingQueue = createTrainingQueue(app.redis, app.config.prefix);
    trainingQueue.on('error', (err) => app.log.error({ err }, 'training queue error'));
    app.decorate('trainingQueue', trainingQueue);
    const evaluationQueue = createEvaluationQueue(app.redis, app.config.prefix);
    evaluationQueue.on('error', (err) => app.log.error({ err }, 'evaluation queue error'));
    app.decorate('evaluationQueue', evaluationQueue);
    app.addHook('onClose', async () => {
      await trainingQueue.close();
      await evaluationQueue.close();
    });
  },
  { name: 'ganforge-queues', dependencies: ['ganforge-infrastructure'] },
);
