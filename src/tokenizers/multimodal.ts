/**
 * The two tokenizers joined into CM3leon's one vocabulary: the BPE text tokenizer, the VQ image
 * tokenizer, the Vocabulary laying out their ids, and the DocumentCodec that turns documents into
 * id sequences and back. What the model, training and generation hold on to.
 */
import { loadTokenizerJson } from './tokenizer-json.js';
import type { BpeTokenizer } from './bpe.js';
import { DocumentCodec, type Document } from './document.js';
import { BREAK, EOS, INFILL, MASK, PAD, Vocabulary, maskSentinel } from './vocabulary.js';
import { ImageTokenizer } from './vq/image-tokenizer.js';

export class MultimodalTokenizer {
  readonly vocab: Vocabulary;
  readonly codec: DocumentCodec;

  constructor(readonly text: BpeTokenizer, readonly image: ImageTokenizer) {
    this.vocab = Vocabulary.forTokenizer(text, { codebookSize: image.config.codebookSize, grid: image.grid });
    this.codec = new DocumentCodec(text, this.vocab);
  }

  /** From a tokenizer.json and an image-tokenizer directory. */
  static load(textPath: string, imageDir: string): MultimodalTokenizer {
    return new MultimodalTokenizer(loadTokenizerJson(textPath), ImageTokenizer.load(imageDir));
  }

  get grid(): number {
    return this.image.grid;
  }

  get imageLength(): number {
    return this.image.grid * this.image.grid;
  }

  /** Ids of the specials the objective and decoding use. */
  get ids(): { pad: number; eos: number; brk: number; mask: number; infill: number; sentinels: number[] } {
    const v = this.vocab;
    const sentinels: number[] = [];
    for (let i = 0; v.hasSpecial(maskSentinel(i)); i++) sentinels.push(v.specialId(maskSentinel(i)));
    return { pad: v.specialId(PAD), eos: v.specialId(EOS), brk: v.specialId(BREAK), mask: v.specialId(MASK), infill: v.specialId(INFILL), sentinels };
  }

  encode(doc: Document): Int32Array {
    return this.codec.encode(doc);
  }
}
