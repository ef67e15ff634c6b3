/**
 * The operator console's files, served by the API under /console/ (scope public: the page itself
 * asks for a token and sends it as a bearer on every /v1 call). Its browser code is TypeScript in
 * api/console/, stripped to JavaScript when the routes are registered by Node's own
 * stripTypeScriptTypes, and served under its .ts name as text/javascript, so the modules' own
 * `./x.ts` imports resolve: no bundler, no framework, nothing fetched from elsewhere at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import type { FastifyReply } from 'fastify';
import type { RouteModule } from './api-routes.ts';
import { problem } from './problem.ts';

interface ConsoleFile {
  type: string;
  body: string;
}

const contentTypes: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  ts: 'text/javascript; charset=utf-8',
};

// Only the page's own origin: a script or style from anywhere else is refused by the browser.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The console's files by name, TypeScript stripped; tests and type configs are left out. */
export function loadConsoleFiles(dir: URL = new URL('./console/', import.meta.url)): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  for (const name of readdirSync(dir)) {
    const extension = name.split('.').pop() ?? '';
    const type = contentTypes[extension];
    if (type === undefined || name.endsWith('.test.ts')) continue;
    const text = readFileSync(new URL(name, dir), 'utf8');
    files.set(name, { type, body: extension === 'ts' ? stripTypeScriptTypes(text, { mode: 'strip' }) : text });
  }
  return files;
}

export function consolePages(load: () => Map<string, ConsoleFile> = loadConsoleFiles): RouteModule {
  return (app) => {
    const files = load();
    const index = files.get('index.html');
    if (index === undefined) throw new Error('the console has no index.html');
    const hidden = { hide: true } as const;
    app.get('/console', { config: { scope: 'public' }, schema: hidden }, (_request, reply) => reply.redirect('/console/'));
    app.get('/console/', { config: { scope: 'public' }, schema: hidden }, (_request, reply) => send(reply, index));
    app.get<{ Params: { file: string } }>('/console/:file', { config: { scope: 'public' }, schema: hidden }, (request, reply) => {
      const file = files.get(request.params.file);
      if (file === undefined) throw problem({ status: 404, kind: 'not_found', title: 'Not found', detail: `the console has no ${request.params.file}` });
      return send(reply, file);
    });
  };
}

function send(reply: FastifyReply, file: ConsoleFile): FastifyReply {
  return reply
    .type(file.type)
    .header('cache-control', 'no-cache')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(file.body);
}
