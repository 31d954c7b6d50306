import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyRules, dropQueryWords, preferMultimodal, queryDropout, rankByRelevance, selectDiverse, twoPerQuery, type Candidate,
} from '../../src/retrieval/rules.js';
import { normalise } from '../../src/retrieval/vectors.js';

/** A candidate whose vector points at angle `deg` in a plane (so cosines are known exactly). */
function at(id: string, score: number, deg: number, kind: Candidate['kind'] = 'both'): Candidate {
  const r = (deg * Math.PI) / 180;
  return { id, score, kind, vector: normalise([Math.cos(r), Math.sin(r), 0]) };
}

const ids = (cs: readonly Candidate[]): string[] => cs.map((c) => c.id);

test('relevance: best score first, ties by id', () => {
  const cs = [at('b', 0.5, 0), at('a', 0.5, 0), at('c', 0.8, 0), at('d', 0.1, 0)];
  assert.deepEqual(ids(rankByRelevance(cs)), ['c', 'a', 'b', 'd']);
});

test('modality: documents with both image and text first, order kept within each group', () => {
  const cs = [at('t', 0.9, 0, 'text'), at('b1', 0.8, 0), at('i', 0.7, 0, 'image'), at('b2', 0.6, 0)];
  assert.deepEqual(ids(preferMultimodal(cs)), ['b1', 'b2', 't', 'i']);
});

test('diversity: near-copies of the query (> 0.9) and near-duplicates of a chosen one (cos > 0.9) are skipped', () => {
  // cos(20 deg) = 0.94 > 0.9: duplicate of 'a'; cos(30 deg) = 0.866: different enough.
  const cs = [at('copy', 0.95, 0), at('a', 0.85, 0), at('dupA', 0.84, 20), at('b', 0.80, 30), at('c', 0.7, 90)];
  assert.deepEqual(ids(selectDiverse(cs, 3)), ['a', 'b', 'c']);
  assert.deepEqual(ids(selectDiverse(cs, 2)), ['a', 'b']);
  // exactly 0.9 is kept: the rule is "greater than".
  assert.deepEqual(ids(selectDiverse([at('edge', 0.9, 0)], 1)), ['edge']);
  // thresholds are options
  assert.deepEqual(ids(selectDiverse(cs, 5, { maxQueryScore: 1, maxPairwise: 1 })), ['copy', 'a', 'dupA', 'b', 'c']);
  assert.throws(() => selectDiverse([{ id: 'x', score: 0.1, kind: 'both' }, at('y', 0.05, 0)], 2), /has no vector/);
});

test('applyRules: relevance, then modality, then diversity', () => {
  const cs = [at('i', 0.88, 60, 'image'), at('b', 0.5, 0), at('copy', 0.99, 0), at('bdup', 0.45, 10)];
  assert.deepEqual(ids(applyRules(cs, 3)), ['b', 'i']);
  assert.deepEqual(ids(applyRules(cs, 3, { preferBoth: false })), ['i', 'b']);
});

test('query dropout: 20% of tokens dropped, order kept, seeded', () => {
  const tokens = Array.from({ length: 50 }, (_, i) => i);
  const a = queryDropout(tokens, 7);
  assert.equal(a.length, 40);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.deepEqual(queryDropout(tokens, 7), a);
  assert.notDeepEqual(queryDropout(tokens, 8), a);
  assert.deepEqual(queryDropout([1, 2], 3), [1, 2]); // round(0.4) = 0 tokens dropped
  assert.equal(queryDropout(tokens, 1, 0.5).length, 25);
  assert.throws(() => queryDropout(tokens, 1, 1), /rate must be in/);
  assert.equal(dropQueryWords('a large red circle at the top left', 3).split(' ').length, 6);
});

test('two per query: one by image, one by text, never the same or near-duplicate document', () => {
  const byImage = [at('x', 0.8, 0), at('y', 0.7, 45)];
  const byText = [at('x', 0.85, 0), at('xdup', 0.8, 5), at('z', 0.6, 90)];
  assert.deepEqual(ids(twoPerQuery(byImage, byText)), ['x', 'z']);
  // a text-only query: both documents come from the text list
  assert.deepEqual(ids(twoPerQuery([], byText)), ['x', 'z']);
  // nothing suitable: fewer than two
  assert.deepEqual(ids(twoPerQuery([at('c', 0.99, 0)], [])), []);
});
