// events.js: the daemon's server-sent events (GET /v1/events): host, vm,
// network and resync. The page asks whether an event concerns what it
// shows and reloads it (debounced). When the stream is missing or ends,
// EventSource reconnects by itself, or, when the server refused it (404,
// 401, 429, 503 close it for good), we try again later with a backoff;
// meanwhile the page is polled so that it still follows the state. A
// stream refused for a bound (429: a user's streams; 503: all) comes back
// once the daemon has seen old ones go, so the backoff stays short.

const KINDS = ['host', 'vm', 'network', 'resync'];
const MAX_DATA = 64 * 1024;

export function startEvents({ onEvent, onLive }) {
  let source = null;
  let stopped = false;
  let retryMs = 2000;
  let timer = null;

  const connect = () => {
    if (stopped)
      return;
    if (typeof EventSource === 'undefined') {
      onLive(false);
      return;
    }
    source = new EventSource('/v1/events', { withCredentials: true });
    source.addEventListener('open', () => {
      retryMs = 2000;
      onLive(true);
    });
    source.addEventListener('hello', () => onLive(true));
    for (const kind of KINDS) {
      source.addEventListener(kind, (ev) => {
        let data = {};
        if (typeof ev.data === 'string' && ev.data.length <= MAX_DATA) {
          try {
            data = JSON.parse(ev.data) || {};
          } catch {
            data = {};
          }
        }
        onEvent(kind, data);
      });
    }
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        onLive(false);
        source = null;
        timer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
      } else {
        onLive(false); // reconnecting by itself
      }
    });
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (source)
      source.close();
    source = null;
  };
}
