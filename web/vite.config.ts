import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// During development the API is the one `docket up` serves; DOCKET_URL points at it.
const api = process.env.DOCKET_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [preact()],
  build: {
    target: "es2022",
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
});
