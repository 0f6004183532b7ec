using System.Security.Cryptography;
using System.Text;

namespace Bctrl.Relay.LiveView;

/// <summary>
/// The viewer page (docs/live-view.md): one self-contained HTML document, nothing loaded from elsewhere. Its script opens
/// <c>./socket</c> beside its own URL, draws each JPEG frame on a canvas (the newest one: a frame that arrives while one
/// is being decoded replaces the waiting one), and, when the relay's hello says the lease is interactive, sends mouse
/// and keyboard input as the JSON messages of <see cref="LiveInput"/>. <c>window.liveView</c> counts frames drawn.
/// </summary>
internal static class LivePage
{
    private const string Script = """
        'use strict';
        const canvas = document.getElementById('view');
        const context = canvas.getContext('2d');
        const status = document.getElementById('status');
        const path = location.pathname.replace(/\/+$/, '');
        const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path + '/socket';
        const live = { frames: 0, interactive: false, closed: null };
        window.liveView = live;
        let socket = null;
        let drawing = false;
        let next = null;

        function connect() {
          socket = new WebSocket(url);
          socket.binaryType = 'blob';
          socket.onmessage = (event) => {
            if (typeof event.data === 'string') {
              const message = JSON.parse(event.data);
              if (message.type === 'hello') {
                live.interactive = message.interactive === true;
                status.textContent = live.interactive ? 'live, interactive' : 'live';
              }
              return;
            }
            next = event.data;
            if (!drawing) draw();
          };
          socket.onclose = (event) => {
            live.closed = event.code;
            status.textContent = 'closed (' + event.code + (event.reason ? ': ' + event.reason : '') + ')';
          };
        }

        async function draw() {
          drawing = true;
          while (next) {
            const blob = next;
            next = null;
            try {
              const bitmap = await createImageBitmap(blob);
              if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
                canvas.width = bitmap.width;
                canvas.height = bitmap.height;
              }
              context.drawImage(bitmap, 0, 0);
              bitmap.close();
              live.frames++;
            } catch (e) {
              // A frame that does not decode is skipped; the next one replaces it.
            }
          }
          drawing = false;
        }

        function send(message) {
          if (live.interactive && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
        }

        function modifiers(e) {
          return (e.altKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.metaKey ? 4 : 0) | (e.shiftKey ? 8 : 0);
        }

        function clamp(value, low, high) {
          return Math.min(high, Math.max(low, value));
        }

        const buttons = ['left', 'middle', 'right'];
        function mouse(kind, e, extra) {
          const box = canvas.getBoundingClientRect();
          send(Object.assign({
            type: 'mouse', event: kind,
            x: clamp((e.clientX - box.left) / box.width, 0, 1), y: clamp((e.clientY - box.top) / box.height, 0, 1),
            button: buttons[e.button] || 'none', buttons: e.buttons & 7, modifiers: modifiers(e),
          }, extra));
        }

        let lastMove = 0;
        canvas.addEventListener('mousemove', (e) => {
          const now = performance.now();
          if (now - lastMove < 16) return;
          lastMove = now;
          mouse('mouseMoved', e, { button: 'none' });
        });
        canvas.addEventListener('mousedown', (e) => { e.preventDefault(); canvas.focus(); mouse('mousePressed', e, { clickCount: clamp(e.detail || 1, 1, 3) }); });
        canvas.addEventListener('mouseup', (e) => { e.preventDefault(); mouse('mouseReleased', e, { clickCount: clamp(e.detail || 1, 1, 3) }); });
        canvas.addEventListener('wheel', (e) => {
          e.preventDefault();
          mouse('mouseWheel', e, { button: 'none', deltaX: clamp(e.deltaX, -10000, 10000), deltaY: clamp(e.deltaY, -10000, 10000) });
        }, { passive: false });
        canvas.addEventListener('contextmenu', (e) => e.preventDefault());

        function key(kind, e) {
          if (!live.interactive) return;
          e.preventDefault();
          const text = kind === 'keyDown' ? (e.key.length === 1 ? e.key : e.key === 'Enter' ? '\r' : '') : '';
          send({ type: 'key', event: kind, key: e.key.slice(0, 32), code: e.code.slice(0, 32), text, keyCode: (e.keyCode || 0) & 255, modifiers: modifiers(e) });
        }
        canvas.addEventListener('keydown', (e) => key('keyDown', e));
        canvas.addEventListener('keyup', (e) => key('keyUp', e));
        connect();
        """;

    private const string Style = """
        html, body { margin: 0; height: 100%; background: #111; color: #bbb; font: 12px system-ui, sans-serif; }
        body { display: flex; flex-direction: column; align-items: center; }
        #status { padding: 4px; }
        canvas { max-width: 100%; max-height: calc(100vh - 24px); outline: none; background: #000; }
        """;

    /// <summary>
    /// Only this page's own script and style run, by hash; it may connect only back to the relay (CSP 3's
    /// <c>'self'</c> covers <c>ws:</c> and <c>wss:</c> of the same host).
    /// </summary>
    public static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; script-src '{Hash(Script)}'; style-src '{Hash(Style)}'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

    public static ReadOnlyMemory<byte> Html { get; } = Encoding.UTF8.GetBytes($$"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="referrer" content="no-referrer">
        <title>Live view</title>
        <style>{{Style}}</style>
        </head>
        <body>
        <div id="status">connecting</div>
        <canvas id="view" width="1280" height="720" tabindex="0"></canvas>
        <script>{{Script}}</script>
        </body>
        </html>
        """);

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
