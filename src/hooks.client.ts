import type { HandleClientError } from '@sveltejs/kit';
import { ApiError } from '$lib/api.js';

/** Keeps the API's own message and code on error pages instead of a bare "Internal Error". */
export const handleError: HandleClientError = ({ error, status }) => {
  if (error instanceof ApiError) return { message: error.message, code: error.code };
  console.error(error);
  return { message: status === 404 ? 'Not found' : 'An unexpected error stopped this page from loading.' };
};
