import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync } from "fastify";

/**
 * The web page at `/` (k8s/orchestrator/web): static files with no build step, Preact and htm as the
 * ES modules their npm packages ship, served from node_modules, so the page works offline and inside
 * the VPC (no CDN). No key is needed for the page itself; the API it calls stays behind the auth
 * plugin. Every answer here carries a strict Content-Security-Policy: scripts only from this origin
 * plus the page's one inline import map, pinned by its hash.
 */

export const WEB_ROOT = path.resolve(__dirname, "../../web");

/** The browser ES modules the import map names, from the pinned npm packages. */
export const VENDOR: Readonly<Record<string, string>> = {
  "preact.mjs": require.resolve("preact"),
  "hooks.mjs": require.resolve("preact/hooks"),
  // Node resolves htm to its CommonJS build; the browser build lies beside it.
  "htm.mjs": path.join(path.dirname(require.resolve("htm")), "htm.module.js"),
};

/** The inline import map's hash, in CSP's source form; the page has no other inline script. */
export function importMapHash(html: string): string {
  const maps = [...html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)];
  if (maps.length !== 1) throw new Error(`web/index.html: expected one inline import map, found ${maps.length}`);
  return `'sha256-${createHash("sha256")
    .update(maps[0]?.[1] ?? "", "utf8")
    .digest("base64")}'`;
}

export function contentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${importMapHash(html)}`,
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const web: FastifyPluginAsync = async (app) => {
  const html = readFileSync(path.join(WEB_ROOT, "index.html"), "utf8");
  const csp = contentSecurityPolicy(html);
  // This plugin is not wrapped in fastify-plugin: the hook covers the page's answers only.
  app.addHook("onSend", async (_request, reply) => {
    reply.header("content-security-policy", csp);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
  });
  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: "/web/", index: false, wildcard: false });
  app.get("/", (_request, reply) =>
    reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(html),
  );
  for (const [name, file] of Object.entries(VENDOR))
    app.get(`/vendor/${name}`, (_request, reply) => reply.sendFile(path.basename(file), path.dirname(file)));
};

export default web;
