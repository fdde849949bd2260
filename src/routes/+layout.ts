// A single-page app: everything renders in the browser, the Hono server serves the shell.
export const ssr = false;
export const prerender = false;
