/**
 * `cm3leon eval`: held-out evaluation of a trained model (src/eval/generation-eval.ts). Prints a
 * JSON summary and writes sheets of generations and the summary into the output directory.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export const summary = 'evaluate a trained model on held-out data';

const USAGE = `usage: cm3leon eval [--model models/cm3leon-small] [--shapes data/shapes] [--emoji data/emoji] [--n 64] [-o eval-out]
                    [--cfg-sweep 1,2,3,5,7] [--samples-sweep 1,2,4,8,16 [--sweep-n 12]] [--encoder models/bi-encoder]
                    [--retrieval-table --bank DIR [--generate 48]] [--quick]

--cfg-sweep      also generates the held-out Shapes captions at each classifier-free guidance scale and
                 scores them (the paper's Fig. 4 CFG axis); with the bi-encoder also its CLIP score and
                 a Fréchet distance on its image features: table in eval.json, plot cfg-sweep.png
--samples-sweep  best-of-N by CLIP score for TopP+CFG 3, CD-K and their mixture, N in the list, on
                 --sweep-n held-out one-object Shapes captions (Fig. 4's samples axis): samples-sweep.png
--encoder        the bi-encoder for CLIP scores and reranking (default models/bi-encoder)
--retrieval-table  the paper's Table 1 in miniature: held-out image NLL with 0, 1 and 2 documents
                 retrieved from --bank (built with the same --encoder) and, for --generate captions per
                 dataset, a Fréchet distance on the bi-encoder's image features and the CLIP score
--quick          only the sweeps asked for (skip NLL, sheets and captioning)`;

export async function run(args: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: { model: { type: 'string' }, shapes: { type: 'string' }, emoji: { type: 'string' }, n: { type: 'string' }, o: { type: 'string', short: 'o' }, seed: { type: 'string' }, 'cfg-sweep': { type: 'string' }, 'samples-sweep': { type: 'string' }, 'sweep-n': { type: 'string' }, encoder: { type: 'string' }, quick: { type: 'boolean' }, 'retrieval-table': { type: 'boolean' }, bank: { type: 'string' }, generate: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (err) {
    throw new CliError(`eval: ${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return console.log(USAGE);
  const modelDir = String(values.model ?? 'models/cm3leon-small');
  const shapes = String(values.shapes ?? 'data/shapes');
  const emoji = String(values.emoji ?? 'data/emoji');
  const n = Number(values.n ?? 64);
  if (!Number.isInteger(n) || n < 2) throw new CliError(`eval: --n must be an integer >= 2, got '${String(values.n)}'`);
  for (const d of [modelDir, shapes, emoji]) if (!existsSync(d)) throw new CliError(`eval: ${d} not found`);
  const sweep = values['cfg-sweep'] === undefined ? [] : String(values['cfg-sweep']).split(',').map(Number);
  if (sweep.some((x) => !Number.isFinite(x) || x < 0)) throw new CliError(`eval: --cfg-sweep takes non-negative scales, e.g. 1,2,3,5,7; got '${String(values['cfg-sweep'])}'`);
  const samplesNs = values['samples-sweep'] === undefined ? [] : String(values['samples-sweep']).split(',').map(Number);
  if (samplesNs.some((x) => !Number.isInteger(x) || x < 1 || x > 64)) throw new CliError(`eval: --samples-sweep takes whole numbers in [1, 64], e.g. 1,2,4,8,16; got '${String(values['samples-sweep'])}'`);
  const sweepN = Number(values['sweep-n'] ?? 12);
  if (!Number.isInteger(sweepN) || sweepN < 1) throw new CliError(`eval: --sweep-n must be a whole number >= 1, got '${String(values['sweep-n'])}'`);
  const encoderDir = String(values.encoder ?? 'models/bi-encoder');
  const retrievalTableWanted = values['retrieval-table'] === true;
  if (retrievalTableWanted && !values.bank) throw new CliError('eval: --retrieval-table needs --bank DIR (a memory bank built with the same --encoder: `cm3leon index build`)');
  if (retrievalTableWanted && !existsSync(encoderDir)) throw new CliError(`eval: --retrieval-table needs the bi-encoder; ${encoderDir} not found`);
  const nGenerate = Number(values.generate ?? 48);
  if (!Number.isInteger(nGenerate) || nGenerate < 0) throw new CliError(`eval: --generate must be a whole number >= 0, got '${String(values.generate)}'`);
  const wantEncoder = samplesNs.length > 0 || retrievalTableWanted || (sweep.length > 0 && existsSync(encoderDir));
  if (samplesNs.length > 0 && !existsSync(encoderDir)) throw new CliError(`eval: --samples-sweep reranks with the bi-encoder; ${encoderDir} not found (train one with \`cm3leon retrieve train-encoder\`)`);
  const out = String(values.o ?? 'eval-out');
  mkdirSync(out, { recursive: true });
  const { Cm3leon } = await import('../decoding/pipeline.js');
  const { loadCaptionItems, imageNll, evaluateShapes, captionSheet } = await import('../eval/generation-eval.js');
  const { writePng } = await import('../data/image.js');
  const m = Cm3leon.loadSync(modelDir);
  const seed = Number(values.seed ?? 0);
  const t0 = performance.now();
  const log = (s: string): void => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}`);

  const shapesHeld = await loadCaptionItems(shapes, 'heldout', n, seed);
  const emojiHeld = await loadCaptionItems(emoji, 'heldout', n, seed);
  const emojiTrain = await loadCaptionItems(emoji, 'train', Math.min(n, 16), seed);
  const quick = values.quick === true;
  let nll, s, captions;
  if (!quick) {
    log('image NLL with and without captions');
    nll = { shapes: imageNll(m, shapesHeld), emoji: imageNll(m, emojiHeld) };
    log('shapes: generating and parsing');
    s = evaluateShapes(m, shapesHeld, { seed });
    writePng(join(out, 'shapes-heldout.png'), captionSheet(s.generations.slice(0, 32)));
    log('emoji: generating');
    const gen = (items: typeof emojiHeld) => items.slice(0, 16).map((it, i) => ({ caption: it.caption, image: m.generateImage(it.caption, { temperature: 1, topP: 0.9, seed: seed + i }).image }));
    writePng(join(out, 'emoji-heldout.png'), captionSheet(gen(emojiHeld)));
    writePng(join(out, 'emoji-train.png'), captionSheet(gen(emojiTrain)));
    captions = emojiHeld.slice(0, 8).map((it) => ({ truth: it.caption, generated: m.captionSync(it.image, { temperature: 0 }) }));
  }
  const encoder = wantEncoder ? (await import('../retrieval/clip-encoder.js')).ClipEncoder.load(encoderDir) : undefined;
  const { frechetDistance } = await import('../eval/fid.js');
  const realFeatures = encoder ? await encoder.embedImage(shapesHeld.map((it) => it.image)) : [];
  const cfgSweep: { cfg: number; single: unknown; multi: unknown; clipScore?: number; fid?: number }[] = [];
  for (const cfg of sweep) {
    log(`shapes: CFG ${cfg}`);
    const r = evaluateShapes(m, shapesHeld, { seed, cfg, caption: false });
    const point: (typeof cfgSweep)[number] = { cfg, single: r.single, multi: r.multi };
    if (encoder) {
      const gen = await encoder.embedImage(r.generations.map((g) => g.image));
      const text = await encoder.embedText(r.generations.map((g) => g.caption));
      point.clipScore = gen.reduce((a, v, i) => a + v.reduce((x, y, j) => x + y * text[i]![j]!, 0), 0) / gen.length;
      point.fid = frechetDistance(gen, realFeatures);
    }
    cfgSweep.push(point);
    writePng(join(out, `shapes-heldout-cfg${cfg}.png`), captionSheet(r.generations.slice(0, 16)));
  }
  let samples: unknown[] = [];
  if (samplesNs.length > 0 && encoder) {
    const { samplesSweep } = await import('../eval/samples-sweep.js');
    const pool = await loadCaptionItems(shapes, 'heldout', Math.max(n, 8 * sweepN), seed + 1);
    const items = pool.filter((it) => it.objects?.length === 1).slice(0, sweepN);
    const points = await samplesSweep(m, items, encoder, { ns: samplesNs, seed, log });
    samples = points;
    const { writePlot } = await import('../train/plot.js');
    const colours: Record<string, [number, number, number]> = { topp: [40, 90, 200], cdk: [220, 80, 30], mixture: [40, 160, 60] };
    writePlot(join(out, 'samples-sweep.png'), (['topp', 'cdk', 'mixture'] as const).map((st) => ({
      points: points.filter((p) => p.strategy === st).map((p) => [Math.log2(p.samples), p.allThree] as [number, number]), colour: colours[st]!,
    })), { title: `Shapes held-out (${items.length} one-object captions): shape+colour+position correct vs log2 samples, best by CLIP score: TopP+CFG3 (blue), CD-K (orange), mixture (green)` });
  }
  if (cfgSweep.length > 0) {
    const { writePlot } = await import('../train/plot.js');
    const line = (f: (r: (typeof cfgSweep)[number]) => number, colour: [number, number, number]) => ({ points: cfgSweep.map((r) => [r.cfg, f(r)] as [number, number]), colour });
    const single = (k: 'shape' | 'colour' | 'position') => (r: (typeof cfgSweep)[number]) => (r.single as Record<string, number>)[k]!;
    writePlot(join(out, 'cfg-sweep.png'), [line(single('shape'), [40, 90, 200]), line(single('colour'), [220, 80, 30]), line(single('position'), [40, 160, 60]), line((r) => (r.multi as { objectMatch: number }).objectMatch, [120, 120, 120])],
      { title: 'Shapes held-out vs CFG scale: shape (blue), colour (orange), position (green), multi-object match (grey)' });
  }
  const retrievalRows: Record<string, unknown> = {};
  if (retrievalTableWanted && encoder) {
    const [{ Retriever }, { retrievalTable }] = await Promise.all([import('../retrieval/retriever.js'), import('../eval/retrieval-eval.js')]);
    const retriever = await Retriever.open(String(values.bank), encoder, { expectedCodes: m.tok.imageLength, codesVersion: m.tok.image.codesVersion, encodeImage: (image) => Int32Array.from(m.tok.image.encode([image])[0]!) });
    const used: Record<string, string[][]> = {};
    try {
      for (const [name, items] of [['shapes', shapesHeld], ['emoji', emojiHeld]] as const) {
        log(`retrieval table: ${name}`);
        const sheet: { caption: string; image: import('../data/image.js').RgbImage }[] = [];
        used[name] = [];
        retrievalRows[name] = await retrievalTable(m, items, (caption, k) => retriever.forText(caption, k), encoder, {
          generate: nGenerate, cfg: 3, seed, log,
          onImage: (k, item, image, context) => {
            if (sheet.length < 48 && items.indexOf(item) < 16) sheet.push({ caption: `${k} docs: ${item.caption}`, image });
            if (k === 2 && used[name]!.length < 8) used[name]!.push([item.caption, ...context.map((c) => c.text)]);
          },
        });
        writePng(join(out, `retrieval-${name}.png`), captionSheet(sheet));
      }
    } finally {
      retriever.close();
    }
    retrievalRows['examples'] = used;
    retrievalRows['bank'] = String(values.bank);
  }
  const result = {
    retrievalTable: retrievalTableWanted ? retrievalRows : null,
    model: modelDir, n, seed, date: new Date().toISOString(),
    cfgSweep,
    samplesSweep: samples,
    encoder: encoder ? `${encoderDir} (${encoder.id.name}@${encoder.id.version})` : null,
    imageNll: nll ?? null,
    shapes: s ? { single: s.single, multi: s.multi, chanceSingle: s.chanceSingle, chanceMulti: s.chanceMulti, captionAccuracy: s.captionAccuracy } : null,
    emojiCaptions: captions ?? null,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  writeFileSync(join(out, 'eval.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}
