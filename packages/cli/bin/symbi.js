#!/usr/bin/env node
// Committed so package managers link the `symbi` bin on install, before `dist/` is built.
const entry = new URL('../dist/bin.js', import.meta.url);
import(entry.href).catch((error) => {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(entry.pathname)) throw error;
  console.error('symbi: the CLI is not built yet; run `pnpm build` in the repository first.');
  process.exit(1);
});
