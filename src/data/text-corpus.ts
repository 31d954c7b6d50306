/**
 * The text of a dataset as a corpus: every distinct caption, instruction, question and answer of
 * one split, one per line — what the BPE text tokenizer is trained on. Texts are stripped of line
 * breaks so a line is a text.
 */
import type { Dataset } from './store.js';
import type { Split } from './types.js';

export async function collectTexts(dataset: Dataset, split: Split = 'train'): Promise<string[]> {
  const seen = new Set<string>();
  for await (const p of dataset.pairs({ split })) {
    for (const t of [p.inputText, p.outputText]) {
      if (t) seen.add(t.replace(/[\r\n]+/g, ' '));
    }
  }
  return [...seen];
}
