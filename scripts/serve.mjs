// A tiny static file server for dist/, bound to loopback only.
//   node scripts/serve.mjs [--port 8080] [--dir dist] [--base /]
// `--port 0` picks a free port; the chosen URL is printed as "serving <url>". `--base /a/b/`
// serves the site under that sub-path only (as a project page on a static host would be).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.webmanifest': 'application/manifest+json',
  '.npy': 'application/octet-stream', '.npz': 'application/octet-stream',
};

// `onServe(path, bytes)` hears of every file sent (the download benchmark counts them).
export function startServer({ port = 8080, dir = 'dist', base = '/', onServe = () => {} } = {}) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      const full = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (!full.startsWith(base)) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
      const path = `/${full.slice(base.length)}`;
      let file = normalize(join(root, path));
      if (!file.startsWith(root)) { res.writeHead(403).end('forbidden'); return; }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, 'index.html');
      // A validator, as static hosts send: a browser holding the file revalidates (304) instead
      // of downloading it again, so the download benchmark counts what a visitor really fetches.
      const info = await stat(file);
      const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end();
        onServe(path, 0);
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', etag });
      res.end(body);
      onServe(path, body.length);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}${base}` }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, def) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : def; };
  const { url } = await startServer({ port: Number(arg('--port', 8080)), dir: arg('--dir', 'dist'), base: arg('--base', '/') });
  console.log(`serving ${url}  (Ctrl-C to stop)`);
}
