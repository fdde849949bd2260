// Pure helpers of the custom attributes card (tested without a browser).

/** A key from a label: lower case, digits and underscores, starting with a letter. */
export function keyFromLabel(label: string): string {
  const key = label
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '')
    .slice(0, 40);
  return key;
}

export const optionList = (text: string) =>
  text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
