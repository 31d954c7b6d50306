/**
 * A 3 x 5 pixel font (upper case, digits, common punctuation) for captions on contact sheets, so
 * that `cm3leon data show` needs no system fonts. Text is drawn upper-cased; characters the font
 * lacks are drawn as '?'. Not for anything a model reads.
 */
import type { Colour, RgbImage } from './image.js';

/** Each glyph: five rows of three bits, top row first. */
const GLYPHS: Record<string, string> = {
  A: '010 101 111 101 101', B: '110 101 110 101 110', C: '011 100 100 100 011', D: '110 101 101 101 110',
  E: '111 100 110 100 111', F: '111 100 110 100 100', G: '011 100 101 101 011', H: '101 101 111 101 101',
  I: '111 010 010 010 111', J: '001 001 001 101 010', K: '101 101 110 101 101', L: '100 100 100 100 111',
  M: '101 111 111 101 101', N: '110 101 101 101 101', O: '010 101 101 101 010', P: '110 101 110 100 100',
  Q: '010 101 101 110 011', R: '110 101 110 101 101', S: '011 100 010 001 110', T: '111 010 010 010 010',
  U: '101 101 101 101 111', V: '101 101 101 101 010', W: '101 101 111 111 101', X: '101 101 010 101 101',
  Y: '101 101 010 010 010', Z: '111 001 010 100 111',
  '0': '111 101 101 101 111', '1': '010 110 010 010 111', '2': '110 001 010 100 111', '3': '110 001 010 001 110',
  '4': '101 101 111 001 001', '5': '111 100 110 001 110', '6': '011 100 111 101 111', '7': '111 001 010 010 010',
  '8': '111 101 111 101 111', '9': '111 101 111 001 110',
  ' ': '000 000 000 000 000', '.': '000 000 000 000 010', ',': '000 000 000 010 100', ':': '000 010 000 010 000',
  '-': '000 000 111 000 000', '(': '001 010 010 010 001', ')': '100 010 010 010 100', '/': '001 001 010 100 100',
  '>': '100 010 001 010 100', '<': '001 010 100 010 001', "'": '010 010 000 000 000', '"': '101 101 000 000 000',
  '?': '110 001 010 000 010', '!': '010 010 010 000 010', '&': '010 101 010 101 011', '+': '000 010 111 010 000',
  '=': '000 111 000 111 000', '_': '000 000 000 000 111', '#': '101 111 101 111 101', '%': '101 001 010 100 101',
  '*': '101 010 101 000 000',
};

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;
/** Horizontal advance and line height in pixels at scale 1. */
export const ADVANCE = 4;
export const LINE_HEIGHT = 7;

/** Draw one line of text with its top-left corner at (x, y), clipped to the image. */
export function drawText(image: RgbImage, text: string, x: number, y: number, colour: Colour, scale = 1): void {
  let cx = x;
  for (const raw of text.toUpperCase()) {
    const rows = (GLYPHS[raw] ?? GLYPHS['?']!).split(' ');
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (rows[row]![col] !== '1') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const px = cx + col * scale + sx, py = y + row * scale + sy;
            if (px < 0 || py < 0 || px >= image.width || py >= image.height) continue;
            image.rgb.set(colour, (py * image.width + px) * 3);
          }
        }
      }
    }
    cx += ADVANCE * scale;
  }
}

/** Break text into lines of at most `columns` characters, on spaces where possible. */
export function wrapText(text: string, columns: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    while (rest.length > columns) {
      if (line) lines.push(line);
      line = '';
      lines.push(rest.slice(0, columns));
      rest = rest.slice(columns);
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= columns) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, columns - 2)}..`;
    return kept;
  }
  return lines;
}
