/**
 * How much the one shuffle made when the dataset is saved moves step 8's accuracy. Steps 4-8 read
 * the training set in one fixed order, drawn once with a seed (lib/device-data.ts SAVED_ORDER_SEED),
 * so every run seed of a study shares it. This trains step 8 with `seeds` run seeds under each of
 * several saved orders and prints the mean accuracy per order: the spread between the order means
 * is what a single order cannot average away.
 *
 *   npx tsx bench/order-study.ts [orders=3] [seeds=10] [out.json]
 */
import { writeFileSync } from 'node:fs';
import { useBackend } from '../lib/backend';
import { loadMnist, selectSamples } from '../lib/data';
import { describeMachine } from '../lib/machine';
import { makeRng, permutation } from '../lib/random';
import { recipeForStep } from '../lib/recipes';
import { mean, std } from '../lib/timing';
import { trainRecipe } from '../lib/train';

const [orders = 3, seeds = 10] = process.argv.slice(2, 4).map(Number);
const out = process.argv[4];
const backend = await useBackend({});
const data = await loadMnist({});
const recipe = recipeForStep(8);
const study: Array<{ order: number; accuracies: number[] }> = [];
for (let order = 0; order < orders; order++) {
  // order 0 is the saved order every notebook uses; the others re-permute the raw data first,
  // which gives the save step another fixed order
  const train = order === 0 ? data.train : selectSamples(data.train, permutation(data.train.count, makeRng(1000 + order)));
  const accuracies: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const result = await trainRecipe(recipe, { train, test: data.test }, { seed });
    accuracies.push(result.testAccuracy!);
  }
  study.push({ order, accuracies });
  console.log(`order ${order}: ${mean(accuracies).toFixed(3)}% ± ${std(accuracies).toFixed(3)} over ${seeds} seeds, ${accuracies.filter((a) => a >= 99).length} reached 99%`);
}
const means = study.map((s) => mean(s.accuracies));
console.log(`order means: ${means.map((m) => m.toFixed(3)).join(', ')}; spread (std) ${std(means).toFixed(3)}`);
if (out) writeFileSync(out, JSON.stringify({ backend: backend.name, machine: describeMachine(), recipe: recipe.slug, seeds, study }, null, 1) + '\n');
