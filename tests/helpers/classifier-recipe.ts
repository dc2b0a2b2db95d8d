/**
 * A classifier recipe that trains in seconds (one epoch over 512 images): for tests that need a
 * stored classifier, not an accurate one. Add a `seed`.
 */
export const shortClassifierRecipe = {
  epochs: 1,
  batchSize: 32,
  learningRate: 1e-3,
  dropout: 0.25,
  maxShift: 1,
  trainCount: 512,
};
