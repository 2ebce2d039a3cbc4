import { maskNumber } from '../../src/staff/roles';

/**
 * A masked number keeps its whole country calling code and its last four digits: staff can tell
 * Spain from France, and one person from another, but cannot call anyone. Numbers from the
 * countries of the six languages, and a few that are easy to get wrong.
 */
describe('masked numbers', () => {
  it.each([
    ['English, United States', '+15550002222', '+1•••••2222'],
    ['English, United Kingdom', '+447700900123', '+44•••••0123'],
    ['Spanish, Spain', '+34612345678', '+34•••••5678'],
    ['Spanish, Mexico', '+5215512345678', '+52•••••5678'],
    ['Portuguese, Portugal', '+351912345678', '+351•••••5678'],
    ['Portuguese, Brazil', '+5511912345678', '+55•••••5678'],
    ['French, France', '+33612345678', '+33•••••5678'],
    ['French, Côte d’Ivoire', '+2250701234567', '+225•••••4567'],
    ['German, Germany', '+4915123456789', '+49•••••6789'],
    ['German, Austria', '+436641234567', '+43•••••4567'],
    ['Indonesian, Indonesia', '+6281234567890', '+62•••••7890'],
    ['a non-geographic number (+800)', '+80012345678', '+800•••••678'],
    ['digits without the "+"', '34612345678', '+34•••••5678'],
  ])('%s: %s → %s', (_where, number, masked) => {
    expect(maskNumber(number)).toBe(masked);
  });

  it('tells Spain from France, which one digit could not', () => {
    expect(maskNumber('+34612345678')).not.toBe(maskNumber('+33612345678'));
  });

  it.each([
    ['Iceland (7 digits)', '+3541234567', '+354•••••67'],
    ['Falkland Islands (5 digits)', '+50012345', '+500•••••'],
    ['Faroe Islands (6 digits)', '+298123456', '+298•••••6'],
  ])('a short number keeps at least five digits hidden: %s', (_where, number, masked) => {
    expect(maskNumber(number)).toBe(masked);
  });

  it('shows no more than the code and four digits, and hides at least five, whatever the length', () => {
    for (const n of ['+3461234567812345', '+1555000222', '+3541234567', '+50012345', '+6281234567890']) {
      const digits = n.replace(/\D/g, '');
      const shown = maskNumber(n).replace(/\D/g, '');
      expect(shown.length).toBeLessThanOrEqual(3 + 4);
      expect(digits.length - shown.length).toBeGreaterThanOrEqual(5);
    }
  });

  it('a person known only by username has no number to mask', () => {
    expect(maskNumber(null)).toBe('username user');
  });
});
