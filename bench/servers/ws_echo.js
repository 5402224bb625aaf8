// ws (npm) echo server for the benchmark kit: listens on 127.0.0.1, prints "PORT n", echoes every
// message, exits when stdin closes. PEER_DEFLATE=1 enables permessage-deflate (threshold 0);
// WS_NO_BUFFER_UTIL=1 keeps ws off the bufferutil addon.
const WebSocket = require('ws');
const deflate = process.env.PEER_DEFLATE === '1' ? { threshold: 0 } : false;
const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0), perMessageDeflate: deflate, maxPayload: 64 << 20 });
wss.on('listening', () => process.stdout.write(`PORT ${wss.address().port}\n`));
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
