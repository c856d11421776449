/**
 * Short fingerprints that make results comparable: a hash of what a recipe trains and a hash of
 * the data it trained on. Two records with the same step but another recipe or data hash are
 * different experiments, and are never set side by side as if they were one.
 */
import { createHash } from 'node:crypto';
import type { MnistArrays } from './data';
import { sourceDigest } from './preprocessed-cache';
import type { Recipe } from './recipes';

/** Hex characters kept of each SHA-256: enough to tell recipes and datasets apart. */
const SHORT = 16;

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fields of a recipe that change what is trained (labels and the original's numbers left out). */
export function trainedFields(recipe: Recipe): Omit<Recipe, 'step' | 'slug' | 'change' | 'reference'> {
  const { step: _step, slug: _slug, change: _change, reference: _reference, ...trained } = recipe;
  return trained;
}

/** SHA-256 (first 16 hex digits) of the recipe's trained fields. */
export function recipeHash(recipe: Recipe): string {
  return createHash('sha256').update(canonicalJson(trainedFields(recipe))).digest('hex').slice(0, SHORT);
}

/** SHA-256 (first 16 hex digits) of the training and test images and labels, in order. */
export function dataHash(data: MnistArrays): string {
  return sourceDigest([data.train, data.test]).toString('hex').slice(0, SHORT);
}
