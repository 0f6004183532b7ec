// chrome-remote-interface against the relay, in the two forms docs/clients.md gives; run by ChromeRemoteInterfaceTests.
//   node cri.mjs target   <endpoint ws:// URL>
//     CDP({ target: url }): the lease's browser socket, straight.
//   node cri.mjs hostport <endpoint ws:// URL> <page url>
//     CDP.New / CDP({ host, port, alterPath }) / CDP.Activate / CDP.Close: the HTTP endpoints under the lease's path,
//     then the page socket /json/list names (rewritten through the relay).
// Prints one JSON line; any failure exits non-zero.
import CDP from 'chrome-remote-interface';

const [mode, endpoint, pageUrl] = process.argv.slice(2);
if (!mode || !endpoint) {
  console.error('usage: node cri.mjs target|hostport <endpoint> [page url]');
  process.exit(2);
}

if (mode === 'target') {
  const client = await CDP({ target: endpoint, local: true });
  try {
    const version = await client.Browser.getVersion();
    console.log(JSON.stringify({ product: version.product }));
  } finally {
    await client.close();
  }
} else {
  const url = new URL(endpoint);
  const prefix = url.pathname; // /cdp/<token>
  const options = {
    host: url.hostname,
    port: Number(url.port),
    secure: url.protocol === 'wss:',
    // chrome-remote-interface applies alterPath to the HTTP endpoints and to the socket URL it then takes from
    // /json/list, which the relay already rewrote under the lease: add the prefix only where it is missing.
    alterPath: (path) => (path.startsWith(`${prefix}/`) ? path : prefix + path),
  };
  const created = await CDP.New({ ...options, url: pageUrl });
  const client = await CDP({ ...options, target: created.id });
  let title;
  try {
    await client.Page.enable();
    const { result } = await client.Runtime.evaluate({ expression: 'document.title' });
    title = result.value;
  } finally {
    await client.close();
  }
  await CDP.Activate({ ...options, id: created.id });
  await CDP.Close({ ...options, id: created.id });
  // Chromium answers "Target is closing" and closes it a moment later: look again for up to 10 s.
  let listed = await CDP.List(options);
  for (let tries = 0; tries < 100 && listed.some((target) => target.id === created.id); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    listed = await CDP.List(options);
  }
  console.log(JSON.stringify({
    id: created.id,
    socket: created.webSocketDebuggerUrl,
    title,
    stillListed: listed.some((target) => target.id === created.id),
  }));
}
