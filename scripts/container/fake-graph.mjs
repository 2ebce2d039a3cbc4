// A tiny stand-in for Meta's Graph API, for the container smoke test (scripts/container/smoke.sh).
// The container under test gets GRAPH_API_BASE_URL=http://127.0.0.1:<port> and sends its replies here;
// the smoke test then reads the request log to see that a reply really left the container.
//
//   node scripts/container/fake-graph.mjs <request-log-file> [port]
// Prints `FAKE_GRAPH_URL=http://127.0.0.1:<port>` once listening; one JSON line per request goes to the
// log file ({at, method, path, body}); the Authorization header is never logged. Stops on SIGTERM/SIGINT.
//
// Plain JavaScript on purpose: it runs straight from the checkout, with no build and no dependencies.
import { Buffer } from 'node:buffer';
import { appendFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import process from 'node:process';

const [logFile, portArg] = process.argv.slice(2);
if (!logFile) {
  process.stderr.write('usage: fake-graph.mjs <request-log-file> [port]\n');
  process.exit(2);
}
writeFileSync(logFile, '');

/** Answers like the Cloud API does for the two calls the bot makes. */
function answer(method, path, body) {
  if (method === 'POST' && /\/messages$/.test(path)) {
    const to = typeof body?.to === 'string' ? body.to : '';
    return [
      200,
      {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to.replace(/^\+/, '') }],
        messages: [{ id: 'wamid.fake1' }],
      },
    ];
  }
  if (method === 'POST' && /\/media$/.test(path)) return [200, { id: 'media1' }];
  return [404, { error: { message: `fake Graph API: no route for ${method} ${path}`, type: 'GraphMethodException', code: 100 } }];
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = { unparsed: raw.slice(0, 2000) }; // multipart media uploads and the like
    }
    const path = (req.url ?? '/').split('?')[0];
    appendFileSync(logFile, `${JSON.stringify({ at: new Date().toISOString(), method: req.method, path, body })}\n`);
    const [status, payload] = answer(req.method, path, body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  });
});

server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  process.stdout.write(`FAKE_GRAPH_URL=http://127.0.0.1:${server.address().port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
