/**
 * The built-in datasets: one entry per name with its image shape, split sizes and loader.
 * Adding a dataset means adding an entry here (and its name to the training config's list).
 */
import { join } from 'node:path';
import { GanforgeError } from '../errors.js';
import {
  loadIdxImageSet,
  loadMnist,
  type DatasetSplit,
  type ImageDataset,
  type ImageShape,
} from './mnist.js';

export interface DatasetEntry {
  name: string;
  description: string;
  shape: ImageShape;
  splitSizes: Record<DatasetSplit, number>;
  load(split: DatasetSplit): Promise<ImageDataset>;
}

/** Where Debian's package dataset-fashion-mnist installs the gzip IDX files. */
const fashionMnistDir = '/usr/share/datasets/fashion-mnist';

function loadFashionMnist(split: DatasetSplit): Promise<ImageDataset> {
  const prefix = split === 'train' ? 'train' : 't10k';
  return loadIdxImageSet(
    {
      images: join(fashionMnistDir, `${prefix}-images-idx3-ubyte.gz`),
      labels: join(fashionMnistDir, `${prefix}-labels-idx1-ubyte.gz`),
    },
    datasets['fashion-mnist'].splitSizes[split],
  );
}

export const datasets: Record<string, DatasetEntry> = {
  mnist: {
    name: 'mnist',
    description: 'Handwritten digits 0-9 (LeCun et al. 1998), 28x28 grayscale.',
    shape: { height: 28, width: 28, channels: 1 },
    splitSizes: { train: 60000, test: 10000 },
    load: loadMnist,
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    description: 'Zalando clothing images (Xiao et al. 2017), 28x28 grayscale.',
    shape: { height: 28, width: 28, channels: 1 },
    splitSizes: { train: 60000, test: 10000 },
    load: loadFashionMnist,
  },
};

/** Looks up a dataset by name; unknown names are GANFORGE_ERR_UNKNOWN_DATASET. */
export function getDataset(name: string): DatasetEntry {
  const entry = Object.hasOwn(datasets, name) ? datasets[name] : undefined;
  if (!entry) {
    throw new GanforgeError('GANFORGE_ERR_UNKNOWN_DATASET', `no dataset named ${name}`, {
      dataset: name,
      known: Object.keys(datasets),
    });
  }
  return entry;
}

const loadedSplits = new Map<string, Promise<ImageDataset>>();

/**
 * A dataset split loaded once per process and shared by everything in it (MNIST's training split
 * is ~190 MB as float32). A failed load is forgotten, so the next call tries again.
 */
export function loadDatasetOnce(name: string, split: DatasetSplit): Promise<ImageDataset> {
  const key = `${name}/${split}`;
  let loading = loadedSplits.get(key);
  if (!loading) {
    loading = getDataset(name).load(split);
    loadedSplits.set(key, loading);
    loading.catch(() => loadedSplits.delete(key));
  }
  return loading;
}
