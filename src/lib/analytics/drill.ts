/** What a drill-down drawer lists: the rows behind one number, as the server's list endpoints give them. */
export interface Drill {
  kind: 'orders' | 'customers' | 'tickets';
  title: string;
  /** The range or bucket, in words. */
  subtitle: string;
  /** The list endpoint's query: from, to and the filter (productId, kind, cohort, segment, sla...). */
  query: Record<string, string>;
}
