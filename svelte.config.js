import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A single-page app: the Hono server serves build/ and falls back to 200.html.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: '200.html', strict: true }),
    alias: { $shared: 'src/lib/shared', '#shared': 'src/lib/shared' }
  }
};
