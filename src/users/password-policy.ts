/** A pool's password rules, checked wherever a password is set. Each failure names its rule. */
import type { PasswordPolicy } from '../db/tables.js';

export function passwordProblems(policy: PasswordPolicy, password: string, email: string): string[] {
  const found: string[] = [];
  if ([...password].length < policy.minLength) found.push(`minLength: must be at least ${policy.minLength} characters.`);
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  const lower = password.toLowerCase();
  if (lower.includes(email.toLowerCase()) || (local.length >= 3 && lower.includes(local))) {
    found.push('notEmail: must not contain the email address.');
  }
  return found;
}
