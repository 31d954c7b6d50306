/**
 * Retrieval for generation: the documents a caption's image is generated after. The bi-encoder
 * embeds the caption, the memory bank returns its nearest documents under the paper's rules
 * (retrieval/rules.ts), and documents stored without codes are encoded by the model's own image
 * tokenizer, so what is prepended is always in the model's codes.
 */
import { fileURLToPath } from 'node:url';
import { ClipEncoder } from '../retrieval/clip-encoder.js';
import { Retriever, ensureDefaultBank, type RetrievedDocument } from '../retrieval/retriever.js';
import { imageSegment, textSegment, type Document } from '../tokenizers/document.js';
import type { MultimodalTokenizer } from '../tokenizers/multimodal.js';

/** The shipped bi-encoder (`models/bi-encoder` in the package). */
export const DEFAULT_ENCODER_DIR = fileURLToPath(new URL('../../../models/bi-encoder', import.meta.url));

export interface RetrieveOptions {
  /** A memory bank directory; default: the installed datasets' bank, built and cached on first use. */
  bank?: string;
  /** The bi-encoder or its directory; default the shipped one. */
  encoder?: ClipEncoder | string;
  tok: MultimodalTokenizer;
}

/** Retrieved documents as the decoder reads them in front of a prompt: `text <break> image` each. */
export function contextDocuments(docs: readonly { text: string; codes: Int32Array }[]): Document[] {
  return docs.map((d) => [textSegment(d.text), imageSegment(d.codes)]);
}

/** The k documents retrieved for `caption`, best first. Bad banks raise RetrievalInputError. */
export async function retrieveDocuments(caption: string, k: number, o: RetrieveOptions): Promise<RetrievedDocument[]> {
  if (!Number.isInteger(k) || k < 1 || k > 2) throw new RangeError(`retrieve: 1 or 2 documents, got ${k}`);
  const encoder = o.encoder instanceof ClipEncoder ? o.encoder : ClipEncoder.load(o.encoder ?? DEFAULT_ENCODER_DIR);
  const dir = o.bank ?? await ensureDefaultBank({ encoder });
  const retriever = await Retriever.open(dir, encoder, {
    expectedCodes: o.tok.imageLength,
    codesVersion: o.tok.image.codesVersion,
    encodeImage: (image) => Int32Array.from(o.tok.image.encode([image])[0]!),
  });
  try {
    return await retriever.forText(caption, k);
  } finally {
    retriever.close();
  }
}
