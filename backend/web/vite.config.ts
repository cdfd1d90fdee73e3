// Three pages share one build: the user dApp (/), the admin console (/admin) and the API docs (/docs). Every
// file lands in dist/assets/ under a content hash (served immutable by the backend); nothing is inlined, so
// the backend's CSP (script-src 'self', style-src 'self') holds.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      input: { index: "index.html", admin: "admin.html", docs: "docs.html" },
    },
  },
});
