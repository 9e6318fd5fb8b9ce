// Preloaded into the MCP conformance suite (node --import) by scripts/conformance.sh: the suite
// has no option for request headers, so this adds `Authorization: Bearer TOKEN` to every request
// it sends to the server under test. Both ways the suite sends requests are covered: the global
// fetch (the SDK client's transport) and undici's request() (the raw HTTP scenarios), the latter
// through undici's global dispatcher.
//
//   CQDA_CONFORMANCE_URL    the server's URL; only requests to its origin get the header
//   CQDA_CONFORMANCE_TOKEN  the bearer token (nothing is added when it is empty)
//   CQDA_CONFORMANCE_UNDICI the file of the undici package the suite uses (its index.js)
import { pathToFileURL } from 'node:url';

const token = process.env.CQDA_CONFORMANCE_TOKEN ?? '';
const target = process.env.CQDA_CONFORMANCE_URL ? new URL(process.env.CQDA_CONFORMANCE_URL) : undefined;
const value = `Bearer ${token}`;

// The request goes to the server under test: same scheme and port, and either the same host or
// a forged Host header on a connection to the same address (the DNS-rebinding scenario).
function toTarget(url) {
  if (!target) return false;
  try {
    const u = new URL(url);
    return u.protocol === target.protocol && u.port === target.port && u.hostname === target.hostname;
  } catch {
    return false;
  }
}

function hasAuthorization(headers) {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    const flat = headers.flat();
    for (let i = 0; i < flat.length; i += 2) if (String(flat[i]).toLowerCase() === 'authorization') return true;
    return false;
  }
  if (typeof headers.has === 'function') return headers.has('authorization');
  return Object.keys(headers).some(k => k.toLowerCase() === 'authorization');
}

function withAuthorization(headers) {
  if (hasAuthorization(headers)) return headers;
  if (!headers) return { authorization: value };
  if (Array.isArray(headers)) return Array.isArray(headers[0]) ? [...headers, ['authorization', value]] : [...headers, 'authorization', value];
  if (typeof headers.set === 'function') { headers.set('authorization', value); return headers; }
  return { ...headers, authorization: value };
}

if (token && target) {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!toTarget(url)) return originalFetch(input, init);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', value);
    return originalFetch(input, { ...init, headers });
  };

  if (process.env.CQDA_CONFORMANCE_UNDICI) {
    const undici = await import(pathToFileURL(process.env.CQDA_CONFORMANCE_UNDICI).href);
    const { Agent, setGlobalDispatcher } = undici.default ?? undici;
    setGlobalDispatcher(new Agent().compose(dispatch => (opts, handler) => {
      const origin = typeof opts.origin === 'string' ? opts.origin : opts.origin?.toString();
      if (origin && toTarget(origin)) opts = { ...opts, headers: withAuthorization(opts.headers) };
      return dispatch(opts, handler);
    }));
  }
}
