/**
 * The one training loop. Every step of the ladder runs through `trainRecipe`; a step differs from
 * another only by its recipe (lib/recipes.ts). Setup (building the data path, the net and the
 * optimizer) is untimed; the clock covers the epochs and the evaluations, and stops only after the
 * final accuracy has been read back from the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataLoader, MnistSampleDataset } from './loader';
import { holdOutValidation, type Batch, type MnistArrays, type Split } from './data';
import { batchesPerEpoch, deviceBatches, inSavedOrder, loadDeviceMnist, loadDeviceSplit, type DeviceSplit } from './device-data';
import type { CacheWarning } from './preprocessed-cache';
import { DivergedError } from './errors';
import { buildNet, nllLoss, smoothedNllLoss, type Net } from './model';
import { createOptimizer } from './optimizer';
import { validateRecipe } from './options';
import { makeRng, nextSeed } from './random';
import type { Recipe } from './recipes';
import { learningRateAt } from './schedule';

export interface TrainOptions {
  /** Makes the run repeatable: init, shuffling and dropout masks all derive from it. */
  seed: number;
  /**
   * Hold this many training images out (seeded) and decide early stopping on them; the test set
   * is then measured once, at the end. 0 (default) decides on the test set, as the original does.
   */
  validationCount?: number;
  /**
   * False: the test set is never evaluated, the run is judged on the validation split alone (a
   * sweep searching recipes); needs `validationCount` > 0. Default true.
   */
  measureTest?: boolean;
  /** Called after every batch; cheap, reads nothing back from the device. */
  onBatch?: (progress: BatchProgress) => void;
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord) => void;
  /** Aborting ends the run at the next batch; the result is then marked partial. */
  signal?: AbortSignal;
  /** Read the losses back (a device sync) every this many batches to catch divergence (default 25). */
  divergenceCheckEvery?: number;
  /** Batch size for evaluation passes (default 1000, as the original's test loader). */
  evalBatchSize?: number;
  /**
   * The preprocessed cache file of the device data path (lib/preprocessed-cache.ts). Used only
   * when training on the whole training set: a held-out split is never written to it.
   */
  cacheFile?: string;
  /** Told once when the cache file cannot be written (training goes on from memory). */
  onCacheWarning?: CacheWarning;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  epochs: number;
  learningRate: number;
}

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Loss and accuracy (percent) on the set that decides stopping: validation, or test. Null when not measured. */
  evalLoss: number | null;
  evalAccuracy: number | null;
  evalSet: 'test' | 'validation' | null;
  /** Seconds since the clock started, at the end of this epoch (evaluation included). */
  elapsedSeconds: number;
}

export interface RunResult {
  step: number;
  slug: string;
  net: Recipe['net'];
  seed: number;
  /** TensorFlow.js backend that ran the run. */
  backend: string;
  /** Wall time of training plus evaluations, seconds. */
  seconds: number;
  epochs: number;
  /** Test accuracy, percent, measured once after training (null for a run aborted before it). */
  testAccuracy: number | null;
  testLoss: number | null;
  /** Accuracy on the held-out validation images, when `validationCount` > 0. */
  validationAccuracy: number | null;
  stoppedEarly: boolean;
  /** True when the run was aborted: numbers cover only what finished. */
  partial: boolean;
  history: EpochRecord[];
  /** Training loss of every batch, and the learning rate it was trained with. */
  batchLosses: number[];
  learningRates: number[];
}

/** The batches of one epoch, and how many there are. Each yielded batch is disposed by the consumer. */
interface BatchSource {
  count: number;
  batchesPerEpoch(batchSize: number, dropLast: boolean): number;
  /** `shuffleSeed`: reshuffle this epoch with it (per-sample path); null reads the stored order. */
  batches(batchSize: number, dropLast: boolean, shuffleSeed: number | null): Iterable<Batch>;
  dispose(): void;
}

/** Steps 01-03: samples are read and normalised one by one, then stacked, for every batch. */
function perSampleSource(split: Split): BatchSource {
  const dataset = new MnistSampleDataset(split);
  return {
    count: split.count,
    batchesPerEpoch: (batchSize, dropLast) => batchesPerEpoch(split.count, batchSize, dropLast),
    batches: (batchSize, dropLast, shuffleSeed) =>
      new DataLoader(dataset, { batchSize, shuffle: shuffleSeed !== null, seed: shuffleSeed ?? 0, dropLast }),
    dispose: () => {},
  };
}

/** Step 04 on: the whole split lives on the device, in its saved order; a batch is a slice. */
function deviceSource(split: DeviceSplit): BatchSource {
  return {
    count: split.count,
    batchesPerEpoch: (batchSize, dropLast) => batchesPerEpoch(split.count, batchSize, dropLast),
    batches: (batchSize, dropLast) => deviceBatches(split, batchSize, dropLast),
    dispose: () => split.dispose(),
  };
}

/**
 * The training and test batch sources of a recipe. With shuffle 'once' the training split is put
 * in its saved (shuffled-once) order. On the device path both splits come from the one
 * preprocessed cache file when `cacheFile` is given (step 04: saved once, loaded once).
 */
function makeSources(
  recipe: Recipe,
  train: Split,
  test: Split,
  cache: { file: string | undefined; warn: CacheWarning | undefined },
): [BatchSource, BatchSource] {
  const saved = recipe.shuffle === 'once';
  if (recipe.dataPath === 'per-sample') return [perSampleSource(saved ? inSavedOrder(train) : train), perSampleSource(test)];
  if (cache.file === undefined) {
    return [deviceSource(loadDeviceSplit(inSavedOrder(train))), deviceSource(loadDeviceSplit(test))];
  }
  const device = loadDeviceMnist({ train, test }, { cacheFile: cache.file, onCacheWarning: cache.warn });
  return [deviceSource(device.train), deviceSource(device.test)];
}

function makeSource(recipe: Recipe, split: Split): BatchSource {
  return recipe.dataPath === 'device' ? deviceSource(loadDeviceSplit(split)) : perSampleSource(split);
}

/** Mean loss and accuracy (percent) of `net` in eval mode; sums stay on the device until one read. */
export async function evaluate(net: Net, source: BatchSource, batchSize: number): Promise<{ loss: number; accuracy: number }> {
  let lossSum: tf.Scalar = tf.scalar(0);
  let correct: tf.Scalar = tf.scalar(0);
  for (const { x, y } of source.batches(batchSize, false, null)) {
    const [nextLoss, nextCorrect] = tf.tidy(() => {
      const logProbs = net.forward(x, { training: false });
      const batchLoss = tf.mul(nllLoss(logProbs, y), y.shape[0]);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logProbs, 1), tf.cast(y, 'int32')), 'float32'));
      return [tf.add(lossSum, batchLoss) as tf.Scalar, tf.add(correct, hits) as tf.Scalar];
    });
    lossSum.dispose();
    correct.dispose();
    x.dispose();
    y.dispose();
    lossSum = nextLoss;
    correct = nextCorrect;
  }
  // The await is the device sync that makes timing honest on asynchronous backends.
  const [lossTotal, hitTotal] = await Promise.all([lossSum.data(), correct.data()]);
  lossSum.dispose();
  correct.dispose();
  return { loss: lossTotal[0]! / source.count, accuracy: (100 * hitTotal[0]!) / source.count };
}

/** Reads pending per-batch loss scalars back, disposes them, and throws if any is not finite. */
async function drainLosses(
  pending: tf.Scalar[],
  into: number[],
  learningRates: readonly number[],
  where: { step: number; epoch: number; batchesPerEpoch: number },
): Promise<void> {
  if (pending.length === 0) return;
  const stacked = tf.stack(pending);
  const values = await stacked.data();
  stacked.dispose();
  for (const loss of pending) loss.dispose();
  const first = into.length;
  pending.length = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) {
      const globalBatch = first + i;
      const batch = (globalBatch % where.batchesPerEpoch) + 1;
      const learningRate = learningRates[globalBatch]!;
      throw new DivergedError(
        `training diverged at step ${where.step}, epoch ${where.epoch}, batch ${batch}: loss is ${value} ` +
          `at learning rate ${learningRate.toPrecision(4)}; lower the learning rate`,
        { step: where.step, epoch: where.epoch, batch, learningRate },
      );
    }
    into.push(value);
  }
}

function yieldToEventLoop(): Promise<void> {
  // Lets Ctrl-C handlers, progress bars and timers run between synchronous batches.
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains `recipe` on `data` and measures it. Returns when the final accuracy has been read back.
 * Every tensor it creates is disposed before it returns, including when it throws.
 */
export async function trainRecipe(recipe: Recipe, data: MnistArrays, options: TrainOptions): Promise<RunResult> {
  validateRecipe(recipe);
  const rng = makeRng(options.seed);
  const initSeed = nextSeed(rng);
  const dropoutSeed = nextSeed(rng);
  const checkEvery = options.divergenceCheckEvery ?? 25;
  const evalBatchSize = options.evalBatchSize ?? 1000;
  const validationCount = options.validationCount ?? 0;
  const measureTest = options.measureTest ?? true;
  if (!measureTest && validationCount <= 0) throw new RangeError('measureTest false needs a validation split (validationCount > 0) to decide on');

  // Untimed setup: the data path, held-out images, the net and its optimizer.
  const held = validationCount > 0 ? holdOutValidation(data.train, validationCount, nextSeed(rng)) : null;
  const trainSplit = held ? held.train : data.train;
  const sources: BatchSource[] = [];
  const track = (source: BatchSource): BatchSource => (sources.push(source), source);
  const net = buildNet(recipe.net, initSeed);
  const optimizer = createOptimizer(recipe.optimizer, net.params);
  const pending: tf.Scalar[] = [];
  try {
    // the cache file holds the whole training set: a run with a held-out split never rewrites it
    const cache = { file: held ? undefined : options.cacheFile, warn: options.onCacheWarning };
    const [train, test] = makeSources(recipe, trainSplit, data.test, cache).map(track) as [BatchSource, BatchSource];
    const validation = held ? track(makeSource(recipe, held.validation)) : null;
    const decideOn = validation ?? test;
    const stepsPerEpoch = train.batchesPerEpoch(recipe.batchSize, recipe.dropLast);
    const totalSteps = stepsPerEpoch * recipe.epochs;
    const smoothing = recipe.labelSmoothing ?? 0;
    const paramNames = Object.keys(net.params);
    const variables = paramNames.map((name) => net.params[name]!);

    const history: EpochRecord[] = [];
    const batchLosses: number[] = [];
    const learningRates: number[] = [];
    let stoppedEarly = false;
    let aborted = false;
    let globalStep = 0;
    let lastEval: { loss: number; accuracy: number } | null = null;

    const started = performance.now();
    const elapsedSeconds = (): number => (performance.now() - started) / 1000;
    for (let epoch = 0; epoch < recipe.epochs && !aborted; epoch++) {
      const shuffleSeed = recipe.shuffle === 'every-epoch' ? nextSeed(rng) : null;
      const lossesBefore = batchLosses.length + pending.length;
      let batch = 0;
      for (const { x, y } of train.batches(recipe.batchSize, recipe.dropLast, shuffleSeed)) {
        const learningRate = learningRateAt(recipe.schedule, recipe.optimizer.lr, { step: globalStep, epoch, totalSteps });
        optimizer.setLearningRate(learningRate);
        learningRates.push(learningRate);
        const stepSeed = dropoutSeed + globalStep;
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => smoothedNllLoss(net.forward(x, { training: true, seed: stepSeed }), y, smoothing),
            variables,
          );
          optimizer.applyGradients(Object.fromEntries(paramNames.map((name, i) => [name, grads[variables[i]!.name]!])));
          return value;
        });
        x.dispose();
        y.dispose();
        pending.push(loss);
        globalStep++;
        batch++;
        if (pending.length >= checkEvery) {
          await drainLosses(pending, batchLosses, learningRates, { step: recipe.step, epoch: epoch + 1, batchesPerEpoch: stepsPerEpoch });
        }
        options.onBatch?.({ epoch: epoch + 1, batch, batchesPerEpoch: stepsPerEpoch, epochs: recipe.epochs, learningRate });
        await yieldToEventLoop();
        if (options.signal?.aborted) {
          aborted = true;
          break;
        }
      }
      await drainLosses(pending, batchLosses, learningRates, { step: recipe.step, epoch: epoch + 1, batchesPerEpoch: stepsPerEpoch });
      if (aborted) break;

      const epochLosses = batchLosses.slice(lossesBefore);
      // #region early-stop
      const evaluateNow = recipe.evaluate === 'every-epoch' || epoch === recipe.epochs - 1;
      lastEval = evaluateNow ? await evaluate(net, decideOn, evalBatchSize) : null;
      const record: EpochRecord = {
        epoch: epoch + 1,
        trainLoss: epochLosses.reduce((s, v) => s + v, 0) / epochLosses.length,
        evalLoss: lastEval?.loss ?? null,
        evalAccuracy: lastEval?.accuracy ?? null,
        evalSet: lastEval ? (validation ? 'validation' : 'test') : null,
        elapsedSeconds: elapsedSeconds(),
      };
      history.push(record);
      options.onEpoch?.(record);
      if (recipe.stopAtAccuracy !== null && lastEval && lastEval.accuracy >= recipe.stopAtAccuracy) {
        stoppedEarly = epoch < recipe.epochs - 1;
        break;
      }
      // #endregion early-stop
    }

    // With a validation split the test set is seen exactly once, here; otherwise the last
    // evaluation already was on the test set.
    let testResult: { loss: number; accuracy: number } | null = validation ? null : lastEval;
    if (validation && measureTest && !aborted) testResult = await evaluate(net, test, evalBatchSize);
    const seconds = elapsedSeconds();

    return {
      step: recipe.step,
      slug: recipe.slug,
      net: recipe.net,
      seed: options.seed,
      backend: tf.getBackend(),
      seconds,
      epochs: history.length,
      testAccuracy: testResult?.accuracy ?? null,
      testLoss: testResult?.loss ?? null,
      validationAccuracy: validation ? (history.at(-1)?.evalAccuracy ?? null) : null,
      stoppedEarly,
      partial: aborted,
      history,
      batchLosses,
      learningRates,
    };
  } finally {
    for (const loss of pending) loss.dispose();
    for (const source of sources) source.dispose();
    optimizer.dispose();
    net.dispose();
  }
}
