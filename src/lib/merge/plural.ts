/** "1 order", "3 orders" (English, regular plurals and the few irregular words the merge screens use). */
export function countOf(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** What a merge moved, as the banner on the survivor's page says it. */
export function movedSentence(moved: {
  orders: number;
  tickets: number;
  points: number;
  bonusPointsTakenBack?: number;
}): string {
  const takenBack = moved.bonusPointsTakenBack
    ? ` (${countOf(moved.bonusPointsTakenBack, 'repeated bonus point')} taken back)`
    : '';
  return `${countOf(moved.orders, 'order')}, ${countOf(moved.tickets, 'ticket')} and ${countOf(moved.points, 'point')} moved here${takenBack}.`;
}
