import { Type } from 'typebox';

export const DatasetSchema = Type.Object({
  id: Type.String({ description: 'The name to pass as dataset when creating a run.' }),
  description: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  channels: Type.Integer(),
  trainCount: Type.Integer({ description: 'Images in the training split.' }),
  testCount: Type.Integer({ description: 'Images in the test split.' }),
});

export const DatasetListSchema = Type.Object(
  { items: Type.Array(DatasetSchema) },
  { description: 'The built-in datasets.' },
);
