/**
 * The colours a pool's pages use: what the administrator set, else the scheme's defaults;
 * the contrast rules they must meet (checked when saved, never at render time); and the
 * stylesheet of custom properties served at /pools/{pool}/branding.css.
 */
import type { BrandingSettings, PoolRow } from '../db/tables.js';
import { fieldError, type FieldError } from '../http/problem.js';
import { CONTROL_CONTRAST, contrastRatio, formatRatio, TEXT_CONTRAST } from './contrast.js';

export interface Theme {
  scheme: 'light' | 'dark';
  primary: string;
  background: string;
  text: string;
  /** Borders of inputs and secondary buttons: half-way between text and background, or the text colour when that is too faint. */
  border: string;
}

const DEFAULTS = {
  light: { primary: '#2f6feb', background: '#ffffff', text: '#1c2430' },
  dark: { primary: '#2f6feb', background: '#1a1f27', text: '#e6e9ef' },
} as const;

/** Text on the primary colour (buttons) is white, as in the stylesheet. */
export const BUTTON_TEXT = '#ffffff';

function mix(a: string, b: string): string {
  const x = Number.parseInt(a.slice(1), 16);
  const y = Number.parseInt(b.slice(1), 16);
  const part = (shift: number) => Math.round((((x >> shift) & 0xff) + ((y >> shift) & 0xff)) / 2);
  return `#${[16, 8, 0].map((shift) => part(shift).toString(16).padStart(2, '0')).join('')}`;
}

/** `tagColor` is the pool's colour from before branding: the primary colour unless one is set. */
export function themeOf(branding: BrandingSettings, tagColor: string | null = null): Theme {
  const scheme = branding.scheme ?? 'light';
  const defaults = DEFAULTS[scheme];
  const background = (branding.backgroundColor ?? defaults.background).toLowerCase();
  const text = (branding.textColor ?? defaults.text).toLowerCase();
  const primary = (branding.primaryColor ?? tagColor ?? defaults.primary).toLowerCase();
  const halfway = mix(text, background);
  const border = contrastRatio(halfway, background) >= CONTROL_CONTRAST ? halfway : text;
  return { scheme, primary, background, text, border };
}

/**
 * The contrast problems of a theme, each naming the field to change and the measured ratio.
 * `fields` says which fields the administrator set (the others are defaults), so a default
 * colour is blamed on the colour that was set against it.
 */
export function contrastProblems(theme: Theme, prefix: string, primaryField: string): FieldError[] {
  const problems: FieldError[] = [];
  const text = contrastRatio(theme.text, theme.background);
  if (text < TEXT_CONTRAST) {
    problems.push(
      fieldError(
        `${prefix}textColor`,
        `Text colour ${theme.text} on background colour ${theme.background} has a contrast of ${formatRatio(text)}; at least 4.5:1 is needed (WCAG 1.4.3).`,
      ),
    );
  }
  const button = contrastRatio(BUTTON_TEXT, theme.primary);
  if (button < TEXT_CONTRAST) {
    problems.push(
      fieldError(
        primaryField,
        `White button text on ${theme.primary} has a contrast of ${formatRatio(button)}; at least 4.5:1 is needed (WCAG 1.4.3). Choose a darker colour.`,
      ),
    );
  }
  const control = contrastRatio(theme.primary, theme.background);
  if (control < CONTROL_CONTRAST) {
    problems.push(
      fieldError(
        primaryField,
        `Buttons and focus rings in ${theme.primary} on background colour ${theme.background} have a contrast of ${formatRatio(control)}; at least 3:1 is needed (WCAG 1.4.11).`,
      ),
    );
  }
  return problems;
}

/** The pool's stylesheet: custom properties that views/assets/tarn.css reads. */
export function themeCss(theme: Theme): string {
  const dark = theme.scheme === 'dark';
  return [
    ':root {',
    `  color-scheme: ${theme.scheme};`,
    `  --accent: ${theme.primary};`,
    `  --ink: ${theme.text};`,
    `  --muted: ${theme.text};`,
    `  --bg: ${theme.background};`,
    `  --surface: ${theme.background};`,
    `  --border: ${theme.border};`,
    // Links are text: the text colour is the one checked for 4.5:1 (underlined, as browsers draw them).
    `  --link: ${theme.text};`,
    ...(dark ? ['  --danger: #ffb4ab;', '  --danger-bg: #3b1713;'] : []),
    '}',
    '',
  ].join('\n');
}

/** /pools/{pool}/branding.css: the theme when the pool sets colours or a scheme, else its tagColor alone (or nothing). */
export function brandingCss(pool: Pick<PoolRow, 'branding' | 'tag_color'>): string {
  const branding = pool.branding ?? {};
  const themed = branding.primaryColor || branding.backgroundColor || branding.textColor || branding.scheme;
  if (themed) return themeCss(themeOf(branding, pool.tag_color));
  return pool.tag_color ? `:root { --accent: ${pool.tag_color}; }\n` : '';
}
