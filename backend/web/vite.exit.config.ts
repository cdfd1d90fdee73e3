// The members' exit page (contracts/EXIT.md §7): a build of its own, after the dApp's (`npm run build` runs both),
// into ONE self-contained file, dist/exit.html — its script and styles inlined, nothing loaded from anywhere (no
// dist/assets/ file, no CDN), so that it works opened from a file:// URL, from any host, or from the backend's
// /exit.html (which sends it with a Content Security Policy allowing exactly its inline script and style, by their
// hashes). It carries the same deployment records as the dApp (`__BUILD_NETWORKS__`): the contracts it may act at; and
// each record's USDT and further `assets` (`__BUILD_TOKENS__`), offered with the native coin as the plan's assets to pick from. Its words in
// all six languages are in the one file too (src/i18n/exit).
import type { Plugin } from "vite";
import { defineConfig } from "vite";
import { buildTokens, chosenByEnvironment, deploymentsDirByEnvironment } from "./scripts/deployments.mjs";
import { buildNetworksConstant } from "./vite.config.ts";

/** Each deployment record's USDT and further assets, per chain (scripts/deployments.mjs `buildTokens`), as the constant `__BUILD_TOKENS__`. */
function buildTokensConstant(): Plugin {
  return {
    name: "build-tokens",
    config: () => ({ define: { __BUILD_TOKENS__: JSON.stringify(buildTokens({ dir: deploymentsDirByEnvironment(), only: chosenByEnvironment() })) } }),
  };
}

/**
 * Replaces the page's `<script src>` and `<link rel=stylesheet>` with the built code itself and drops the files, then
 * fails the build if the page still names anything to load (a chunk, an asset, a URL).
 */
function inlineEverything(): Plugin {
  return {
    name: "inline-everything",
    enforce: "post",
    generateBundle(_options, bundle) {
      const page = Object.values(bundle).find((f) => f.type === "asset" && f.fileName === "exit.html");
      if (!page || page.type !== "asset") throw new Error("exit.html is not in the bundle");
      let html = String(page.source);
      for (const [name, file] of Object.entries(bundle)) {
        if (file === page) continue;
        const tag = new RegExp(`<(?:script|link)[^>]*(?:src|href)="[^"]*/${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"[^>]*>(?:</script>)?`);
        if (!tag.test(html)) throw new Error(`exit.html: ${name} was built but the page does not name it: it cannot be inlined`);
        if (file.type === "chunk") {
          // `</script` inside the code would end the element early; `<\/script` is the same text to JavaScript.
          const code = file.code.replace(/<\/(script)/gi, "<\\/$1");
          html = html.replace(tag, () => `<script type="module">${code}</script>`);
        } else if (name.endsWith(".css")) {
          html = html.replace(tag, () => `<style>${String(file.source).replace(/<\/(style)/gi, "<\\/$1")}</style>`);
        } else {
          throw new Error(`exit.html: ${name} is neither its script nor its style: nothing else may be loaded`);
        }
        delete bundle[name];
      }
      // (A `data:` URL is in the page itself: the empty icon that keeps browsers from asking the host for one.)
      const loads = /<(?:script|link|img|iframe)[^>]*\s(?:src|href)="(?!data:)/i.exec(html);
      if (loads) throw new Error(`exit.html still loads something: ${loads[0]}`);
      page.source = html;
    },
  };
}

export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [buildNetworksConstant(), buildTokensConstant(), inlineEverything()],
  build: {
    outDir: "dist",
    // The dApp's build (vite.config.ts) ran first into the same folder.
    emptyOutDir: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    modulePreload: false,
    cssCodeSplit: false,
    sourcemap: false,
    target: "es2022",
    rolldownOptions: {
      input: { exit: "exit.html" },
      output: { codeSplitting: false },
    },
  },
});
