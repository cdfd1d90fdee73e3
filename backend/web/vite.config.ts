// Four pages share one build: the user dApp (/), the admin console (/admin), the API docs (/docs) and the devnet's
// example terms (/terms.html, static). Every
// file lands in dist/assets/ under a content hash (served immutable by the backend); nothing is inlined, so
// the backend's CSP (script-src 'self', style-src 'self') holds. The members' exit page (exit.html) is a build of
// its own, one self-contained file: vite.exit.config.ts.
import type { Plugin } from "vite";
import { defineConfig } from "vite";
import { buildNetworks, chosenByEnvironment, deploymentsDirByEnvironment } from "./scripts/deployments.mjs";

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

/**
 * Each network's Settlement contract (and those it replaced after an upgrade), chain id and the proof of solvency's
 * maximum age, from the deployment records (deployments/*.json, or the directory WEB_DEPLOYMENTS_DIR names; chosen by
 * WEB_DEPLOYMENTS; scripts/deployments.mjs), embedded in the build as the constant `__BUILD_NETWORKS__`
 * (src/lib/networks-build.ts): the members' verifier reads the commitments at these contracts and judges age with this
 * maximum, never what the operator's API says. A record that does not read fails the build.
 */
export function buildNetworksConstant(): Plugin {
  const dir = deploymentsDirByEnvironment();
  return {
    name: "build-networks",
    config: () => ({ define: { __BUILD_NETWORKS__: JSON.stringify(buildNetworks({ dir, only: chosenByEnvironment() })) } }),
    // The dev server reloads when a record changes.
    configureServer(server) {
      server.watcher.add(dir);
      server.watcher.on("change", (file) => {
        if (file.startsWith(dir)) void server.restart();
      });
    },
  };
}

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [walletConnectApart(), buildNetworksConstant()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      input: { index: "index.html", admin: "admin.html", docs: "docs.html", terms: "terms.html" },
    },
  },
});
