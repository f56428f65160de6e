import { defineConfig, loadEnv } from "vite";
import preact from "@preact/preset-vite";

// `npm run dev` proxies the API to a runtime's REST address (AGENT_RUNTIME_URL, default the one `make run`
// serves), so the console talks to the same origin as it does when the runtime serves console/dist.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, ".", "AGENT_RUNTIME_");
  const target = env.AGENT_RUNTIME_URL || "http://127.0.0.1:8080";
  const api = { target, changeOrigin: false };
  // `npm run preview` serves the build under the policy the runtime serves it with, so a violation shows.
  const csp =
    "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:";
  return {
    base: "/",
    plugins: [preact()],
    build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
    server: { proxy: { "/sessions": api, "/agent-profiles": api, "/health": api } },
    preview: {
      headers: { "Content-Security-Policy": csp },
      proxy: { "/sessions": api, "/agent-profiles": api, "/health": api },
    },
  };
});
