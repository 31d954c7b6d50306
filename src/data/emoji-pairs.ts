/**
 * Pairs derived from the emoji catalogue once its images are rendered: caption <-> image,
 * outline -> colour, skin-tone edits, style transfer, super-resolution, VQA (group, tone, yes/no
 * with negatives, tags) and cross-style retrieval. A pair always lies inside one concept family
 * (a concept, or a base emoji and its tones), so it inherits that family's split; negatives in
 * questions are drawn from the same split, so no training text names a held-out concept.
 */
import { EMOJI_STYLES, STYLE_WORDS, TONE_WORDS, type EmojiConcept, type EmojiStyle } from './emoji-catalog.js';
import { hashString } from './rng.js';
import type { PairRecord, PairType } from './types.js';

export function emojiImageId(conceptId: string, style: EmojiStyle, factor = 1): string {
  return factor === 1 ? `${conceptId}/${style}` : `${conceptId}/${style}/x${factor}`;
}

export function emojiCaption(concept: EmojiConcept, style: EmojiStyle): string {
  return `${concept.label}, ${STYLE_WORDS[style]} emoji`;
}

function pickBy<T>(items: readonly T[], key: string): T | undefined {
  return items.length ? items[hashString(key) % items.length] : undefined;
}

function toneNoun(label: string): string {
  return /hand|fist|thumb|finger/.test(label) ? 'hand' : 'skin';
}

/**
 * Every pair for the rendered images. `available` lists, per concept id, the styles that rendered;
 * `factors` the low-resolution factors stored beside each image.
 */
export function* emojiPairs(
  concepts: readonly EmojiConcept[],
  available: ReadonlyMap<string, readonly EmojiStyle[]>,
  factors: readonly number[],
): Generator<PairRecord> {
  const byId = new Map(concepts.map((c) => [c.id, c]));
  const hasTones = new Set(concepts.filter((c) => c.baseId).map((c) => c.baseId!));
  // Negatives: tone-less concepts of the same split, by group.
  const negatives = new Map<string, EmojiConcept[]>();
  for (const c of concepts) {
    if (c.baseId) continue;
    const key = `${c.split}/${c.group}`;
    negatives.set(key, [...(negatives.get(key) ?? []), c]);
  }
  const tagPools = new Map<string, EmojiConcept[]>();
  for (const c of concepts) if (!c.baseId && c.tags.length) tagPools.set(c.split, [...(tagPools.get(c.split) ?? []), c]);

  for (const concept of concepts) {
    const styles = available.get(concept.id) ?? [];
    let n = 0;
    const pair = (type: PairType, task: string, fields: Partial<PairRecord>): PairRecord => ({
      id: `${concept.id}/${type}/${n++}`, type, task, split: concept.split, conceptId: concept.id,
      inputImage: null, inputText: null, outputImage: null, outputText: null, ...fields,
    });
    for (const style of styles) {
      const image = emojiImageId(concept.id, style);
      const key = `${concept.id}/${style}`;
      yield pair('caption', style, { inputText: emojiCaption(concept, style), outputImage: image });
      for (const factor of factors) {
        yield pair('super-resolution', `x${factor}`, { inputImage: emojiImageId(concept.id, style, factor), outputImage: image });
      }
      // Style transfer to one other style, retrieval of the next style round the list.
      const others = styles.filter((s) => s !== style);
      const target = pickBy(others, `${key}/style`);
      if (target) {
        yield pair('style-transfer', target, {
          inputImage: image, inputText: `redraw this emoji in the ${STYLE_WORDS[target]} style`, outputImage: emojiImageId(concept.id, target),
        });
        const order = EMOJI_STYLES.indexOf(style);
        const next = [...others].sort((a, b) => ((EMOJI_STYLES.indexOf(a) - order + 6) % 6) - ((EMOJI_STYLES.indexOf(b) - order + 6) % 6))[0]!;
        yield pair('retrieval', style, { inputImage: image, outputImage: emojiImageId(concept.id, next) });
      }
      // Questions.
      const ask = (task: string, question: string, answer: string): PairRecord =>
        pair('vqa', task, { inputImage: image, inputText: question, outputText: answer });
      yield ask('group', 'Which emoji group is this from?', concept.groupName);
      if (typeof concept.tone === 'number') {
        yield ask('tone', 'What skin tone does this emoji have?', `${TONE_WORDS[concept.tone]} skin tone`);
      } else if (hasTones.has(concept.id)) {
        yield ask('tone', 'What skin tone does this emoji have?', 'the default yellow, no skin tone');
      }
      const base = concept.baseId ? byId.get(concept.baseId) ?? concept : concept;
      if (hashString(`${key}/is`) % 2 === 0) {
        yield ask('is-this', `Is this emoji a ${base.label}?`, 'yes');
      } else {
        const pool = (negatives.get(`${concept.split}/${concept.group}`) ?? []).filter((c) => c.id !== base.id && c.label !== base.label);
        const other = pickBy(pool, `${key}/neg`);
        if (other) yield ask('is-this', `Is this emoji a ${other.label}?`, 'no');
      }
      if (concept.tags.length) {
        if (hashString(`${key}/tag`) % 2 === 0) {
          yield ask('tag', `Does the word "${pickBy(concept.tags, `${key}/tagpick`)}" describe this emoji?`, 'yes');
        } else {
          const pool = tagPools.get(concept.split) ?? [];
          const start = hashString(`${key}/tagneg`);
          let other: EmojiConcept | undefined;
          for (let i = 0; i < Math.min(8, pool.length) && !other; i++) {
            const candidate = pool[(start + i) % pool.length]!;
            if (candidate.subgroup !== concept.subgroup) other = candidate;
          }
          const tag = other && pickBy(other.tags.filter((t) => !concept.tags.includes(t)), `${key}/tagnegpick`);
          if (tag) yield ask('tag', `Does the word "${tag}" describe this emoji?`, 'no');
        }
      }
    }
    // Outline -> colour.
    if (styles.includes('openmoji-black') && styles.includes('openmoji-color')) {
      yield pair('outline-to-colour', 'openmoji', {
        inputImage: emojiImageId(concept.id, 'openmoji-black'), inputText: concept.label, outputImage: emojiImageId(concept.id, 'openmoji-color'),
      });
    }
    // Skin-tone edits, in every style that has both sides.
    if (concept.baseId && typeof concept.tone === 'number') {
      const base = byId.get(concept.baseId);
      const lighter = concepts.find((c) => c.baseId === concept.baseId && c.tone === (concept.tone as number) - 1);
      const noun = toneNoun(base?.label ?? concept.label);
      for (const style of styles) {
        if (base && (available.get(base.id) ?? []).includes(style)) {
          yield pair('tone-edit', 'add-tone', {
            inputImage: emojiImageId(base.id, style), inputText: `give it a ${TONE_WORDS[concept.tone]} skin tone`, outputImage: emojiImageId(concept.id, style),
          });
        }
        if (lighter && (available.get(lighter.id) ?? []).includes(style)) {
          yield pair('tone-edit', 'darker', {
            inputImage: emojiImageId(lighter.id, style), inputText: `make the ${noun} darker`, outputImage: emojiImageId(concept.id, style),
          });
          yield pair('tone-edit', 'lighter', {
            inputImage: emojiImageId(concept.id, style), inputText: `make the ${noun} lighter`, outputImage: emojiImageId(lighter.id, style),
          });
        }
      }
    }
  }
}
