/** "1 order", "3 orders" (English, regular plurals and the few irregular words the merge screens use). */
export function countOf(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
