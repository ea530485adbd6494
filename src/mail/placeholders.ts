/**
 * Pool mail templates are administrator input, so they are logic-less (docs/adr/0401): text
 * with `{{name}}` placeholders and nothing else. No expression, loop or include is ever
 * evaluated, unlike ejs, whose templates are JavaScript. In HTML every value is escaped;
 * in the subject line breaks are removed.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g;

export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);
}

export function fillPlaceholders(template: string, values: Record<string, string>, format: 'html' | 'text' | 'subject'): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name] ?? '';
    if (format === 'html') return escapeHtml(value);
    if (format === 'subject') return value.replace(/[\r\n]+/g, ' ');
    return value;
  });
}
