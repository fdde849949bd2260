// npm run dev: the Pulse server on API_PORT (default 3001, API and Socket.IO only) and Vite's
// hot-reloading dev server on PORT (default 5173), which proxies /api and /socket.io to it.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const apiPort = process.env.API_PORT ?? '3001';
const children: ChildProcess[] = [];

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env }
  });
  child.on('exit', (code) => {
    for (const other of children) if (other !== child) other.kill('SIGINT');
    process.exit(code ?? 0);
  });
  children.push(child);
}

run(['--import', 'tsx', 'server/index.ts'], { PORT: apiPort, SERVE_FRONTEND: 'false' });
run(
  [
    path.join(root, 'node_modules/vite/bin/vite.js'),
    'dev',
    '--port',
    process.env.PORT ?? '5173',
    '--strictPort'
  ],
  { API_PORT: apiPort }
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}
