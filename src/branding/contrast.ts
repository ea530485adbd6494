/**
 * WCAG 2.2 contrast: relative luminance of an sRGB colour (§ "relative luminance") and the
 * contrast ratio (L1 + 0.05) / (L2 + 0.05). Text needs 4.5:1 (SC 1.4.3, AA), controls and
 * their borders 3:1 (SC 1.4.11).
 */
export const TEXT_CONTRAST = 4.5;
export const CONTROL_CONTRAST = 3;

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** `#rrggbb` → relative luminance in [0, 1]. */
export function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 0xff) + 0.7152 * channel((n >> 8) & 0xff) + 0.0722 * channel(n & 0xff);
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The ratio as people read it: rounded down to two decimals, so 4.499 never shows as "4.50". */
export function formatRatio(ratio: number): string {
  return `${(Math.floor(ratio * 100) / 100).toFixed(2)}:1`;
}
