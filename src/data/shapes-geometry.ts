/**
 * The Shapes world: which shapes, colours, sizes and backgrounds exist, the exact geometry of each
 * shape (a point-in-shape test and its bounding box), and the paper's 0-255 box coordinates.
 * Everything is in canvas units (0..1), so a scene renders at any pixel size. Sampling scenes
 * lives in shapes-scene.ts, pixels in shapes-render.ts.
 */
import type { Colour } from './image.js';

export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export const COLOUR_NAMES = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink'] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/** Object colours, far apart from each other and from every background. */
export const COLOURS: Record<ColourName, Colour> = {
  red: [220, 30, 40],
  orange: [245, 140, 20],
  yellow: [240, 210, 30],
  green: [30, 160, 60],
  cyan: [30, 190, 210],
  blue: [40, 70, 220],
  purple: [130, 50, 180],
  pink: [240, 110, 190],
};

export const BACKGROUND_NAMES = ['white', 'grey', 'black'] as const;
export type BackgroundName = (typeof BACKGROUND_NAMES)[number];

export const BACKGROUNDS: Record<BackgroundName, Colour> = {
  white: [255, 255, 255],
  grey: [200, 200, 200],
  black: [20, 20, 20],
};

export const SIZE_NAMES = ['small', 'medium', 'large'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

/** Half the extent of a shape, as a fraction of the canvas side. */
export const SIZE_RADIUS: Record<SizeName, number> = { small: 0.08, medium: 0.12, large: 0.17 };

/** Colours of the segmentation maps: one per shape class, black for background. */
export const SEGMENT_COLOURS: Record<ShapeName | 'background', Colour> = {
  background: [0, 0, 0],
  circle: [255, 0, 0],
  square: [0, 255, 0],
  triangle: [0, 0, 255],
  diamond: [255, 255, 0],
  cross: [255, 0, 255],
  star: [0, 255, 255],
};

/** One object of a scene: centre (x, y) in canvas units, y growing downwards. */
export interface ShapeObject {
  shape: ShapeName;
  colour: ColourName;
  size: SizeName;
  x: number;
  y: number;
}

const STAR_POINTS: [number, number][] = Array.from({ length: 10 }, (_, i) => {
  const angle = -Math.PI / 2 + (i * Math.PI) / 5;
  const radius = i % 2 === 0 ? 1 : 0.45;
  return [radius * Math.cos(angle), radius * Math.sin(angle)];
});

function insidePolygon(points: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Is the point (u, v), in units of the shape's radius and relative to its centre, inside? */
export function insideUnitShape(shape: ShapeName, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle':
      return v <= 1 && v >= -1 && Math.abs(u) <= (v + 1) / 2;
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
    case 'cross':
      return (Math.abs(u) <= 1 / 3 && Math.abs(v) <= 1) || (Math.abs(v) <= 1 / 3 && Math.abs(u) <= 1);
    case 'star':
      return insidePolygon(STAR_POINTS, u, v);
  }
}

/** Bounding box of a shape in units of its radius: [u0, v0, u1, v1]. */
export const UNIT_BOUNDS: Record<ShapeName, readonly [number, number, number, number]> = {
  circle: [-1, -1, 1, 1],
  square: [-0.85, -0.85, 0.85, 0.85],
  triangle: [-1, -1, 1, 1],
  diamond: [-1, -1, 1, 1],
  cross: [-1, -1, 1, 1],
  star: [-Math.cos(Math.PI / 10), -1, Math.cos(Math.PI / 10), Math.cos(Math.PI / 5)],
};

export function insideObject(object: ShapeObject, x: number, y: number): boolean {
  const r = SIZE_RADIUS[object.size];
  return insideUnitShape(object.shape, (x - object.x) / r, (y - object.y) / r);
}

/** Bounding box of an object in canvas units: [x0, y0, x1, y1]. */
export function objectBounds(object: ShapeObject): [number, number, number, number] {
  const r = SIZE_RADIUS[object.size];
  const [u0, v0, u1, v1] = UNIT_BOUNDS[object.shape];
  return [object.x + u0 * r, object.y + v0 * r, object.x + u1 * r, object.y + v1 * r];
}

/** Canvas units -> the paper's integer 0-255 coordinates. */
export function toBoxCoordinate(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value * 255)));
}

/** The paper's box notation: `(x0, y0) -> (x1, y1)` in 0-255 coordinates. */
export function formatBox(object: ShapeObject): string {
  const [x0, y0, x1, y1] = objectBounds(object).map(toBoxCoordinate) as [number, number, number, number];
  return `(${x0}, ${y0}) -> (${x1}, ${y1})`;
}

/** Parse every `(x0, y0) -> (x1, y1)` in a text back into numbers. */
export function parseBoxes(text: string): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (const m of text.matchAll(/\((\d+), (\d+)\) -> \((\d+), (\d+)\)/g)) {
    out.push([Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  return out;
}

/** `shape/colour`: the attribute combination the held-out split is defined over. */
export function comboKey(object: { shape: ShapeName; colour: ColourName }): string {
  return `${object.shape}/${object.colour}`;
}

/** Combinations never seen in training: one per shape, each with a different colour. */
export const HELD_OUT_COMBOS: readonly string[] = [
  'circle/purple', 'square/yellow', 'triangle/cyan', 'diamond/red', 'cross/green', 'star/pink',
];

export function isHeldOutObject(object: { shape: ShapeName; colour: ColourName }): boolean {
  return HELD_OUT_COMBOS.includes(comboKey(object));
}

/** Where a point lies on a 3 x 3 grid, as words: 'top left', 'top', 'centre', 'bottom right' ... */
export function regionName(x: number, y: number): string {
  const col = x < 1 / 3 ? 'left' : x > 2 / 3 ? 'right' : '';
  const row = y < 1 / 3 ? 'top' : y > 2 / 3 ? 'bottom' : '';
  if (!row && !col) return 'centre';
  return [row, col].filter(Boolean).join(' ');
}

export const REGION_NAMES = [
  'top left', 'top', 'top right', 'left', 'centre', 'right', 'bottom left', 'bottom', 'bottom right',
] as const;

/** The canvas-unit rectangle [x0, y0, x1, y1] of a named region. */
export function regionRect(name: string): [number, number, number, number] {
  const index = REGION_NAMES.indexOf(name as (typeof REGION_NAMES)[number]);
  if (index < 0) throw new Error(`unknown region '${name}'`);
  const col = index % 3, row = Math.floor(index / 3);
  return [col / 3, row / 3, (col + 1) / 3, (row + 1) / 3];
}
