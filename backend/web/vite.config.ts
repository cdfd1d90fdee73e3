// Three pages share one build: the user dApp (/), the admin console (/admin) and the API docs (/docs). Every
// file lands in dist/assets/ under a content hash (served immutable by the backend); nothing is inlined, so
// the backend's CSP (script-src 'self', style-src 'self') holds.
import type { Plugin } from "vite";
import { defineConfig } from "vite";

/**
 * WalletConnect's client is a lazy chunk (`src/lib/walletconnect.ts`, imported on a click). Its dependencies that the
 * pages also use (@noble/hashes through viem) would otherwise be one module in the pages' shared chunk, which then
 * carries every function WalletConnect calls in them (SHA-512, random bytes…) on every page. Marking each module
 * reached from @walletconnect/* as a module of its own (`?wc`) keeps all of it in the lazy chunk.
 */
function walletConnectApart(): Plugin {
  const MARK = "?wc";
  const inGraph = (id: string | undefined) => !!id && (id.includes("/node_modules/@walletconnect/") || id.endsWith(MARK));
  return {
    name: "walletconnect-apart",
    enforce: "pre",
    async resolveId(source, importer, options) {
      if (!inGraph(importer) || source.startsWith("\0")) return null;
      const resolved = await this.resolve(source, importer?.slice(0, importer.endsWith(MARK) ? -MARK.length : undefined), { ...options, skipSelf: true });
      if (!resolved || resolved.external || !resolved.id.includes("/node_modules/") || resolved.id.includes("?")) return resolved;
      return { ...resolved, id: resolved.id + MARK };
    },
  };
}

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [walletConnectApart()],
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
