import { get } from 'node:http';
import { inject } from 'vitest';

// Setup file of the e2e project: a browser test file starts once the frontend build the run began
// in the background (global-setup-e2e.ts) is done, and fails with the build's output if it failed.
// It waits for the answer, with no timeout of its own: the build takes as long as it takes.
await new Promise<void>((resolve, reject) => {
  get(inject('frontendBuildUrl'), (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(body))));
  }).on('error', reject);
});
