// Placeholder until the demo data generator lands: see db/seed/README in the task.
export async function seedIfEmpty(_url: string, _opts: { log?: (msg: string) => void } = {}): Promise<boolean> {
  return false;
}
