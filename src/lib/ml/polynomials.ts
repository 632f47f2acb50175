/**
 * The target polynomials of the §C playground (seed-systems.md §C.1): y = a x³ + b x² + c x + d,
 * except quartic_w, which the seed special-cases as y = (b x² + d)² (= 0.04 x⁴, a "U" despite
 * its name) — `form: 'square'`. Cheap to import.
 */
export interface Polynomial { a: number; b: number; c: number; d: number; form: 'cubic' | 'square' }

export const POLYNOMIALS: Record<'linear_pos' | 'quadratic_u' | 'cubic_s' | 'cubic_neg' | 'quartic_w', Polynomial> = {
  linear_pos: { a: 0, b: 0, c: 1.2, d: 0, form: 'cubic' },
  quadratic_u: { a: 0, b: 0.6, c: 0, d: 0.2, form: 'cubic' },
  cubic_s: { a: 0.4, b: -0.8, c: 1.5, d: 0.5, form: 'cubic' },
  cubic_neg: { a: -0.5, b: 0.3, c: -0.8, d: 0, form: 'cubic' },
  quartic_w: { a: 0, b: 0.2, c: 0, d: 0, form: 'square' },
};

export type PolynomialName = keyof typeof POLYNOMIALS;
export const POLYNOMIAL_NAMES = Object.keys(POLYNOMIALS) as PolynomialName[];

/** The seed's evaluation (numpy operation order: a·x**3 + b·x**2 + c·x + d). */
export function evalPolynomial(p: Polynomial, x: number): number {
  return p.form === 'square' ? (p.b * x ** 2 + p.d) ** 2 : p.a * x ** 3 + p.b * x ** 2 + p.c * x + p.d;
}

/** A human-readable formula, e.g. "0.4x³ − 0.8x² + 1.5x + 0.5" or "(0.2x²)²". */
export function formula(p: Polynomial): string {
  const terms: [number, string][] = p.form === 'square' ? [[p.b, 'x²'], [p.d, '']] : [[p.a, 'x³'], [p.b, 'x²'], [p.c, 'x'], [p.d, '']];
  let s = '';
  for (const [k, t] of terms) {
    if (k === 0) continue;
    const mag = Math.abs(k) === 1 && t ? '' : String(Math.abs(k));
    s += s ? (k < 0 ? ' − ' : ' + ') : k < 0 ? '−' : '';
    s += mag + t;
  }
  s ||= '0';
  return p.form === 'square' ? `(${s})²` : s;
}
