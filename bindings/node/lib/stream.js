'use strict';
// createWebSocketStream(ws, options): a Duplex whose writes are messages sent, whose reads are
// messages received; the end of either side closes the WebSocket. Backpressure: a full read
// buffer pauses the WebSocket, reading resumes it.
const { Duplex } = require('stream');

function emitClose(stream) {
  stream.emit('close');
}

function createWebSocketStream(ws, options) {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false
  });

  ws.on('message', (msg, isBinary) => {
    const data = !isBinary && duplex._readableState.objectMode ? msg.toString() : msg;
    if (!duplex.push(data)) ws.pause();
  });
  ws.once('error', (err) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;  // the WebSocket closes itself after an error
    duplex.destroy(err);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = (err, callback) => {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      process.nextTick(emitClose, duplex);
      return;
    }
    let called = false;
    ws.once('error', (e) => {
      called = true;
      callback(e);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = (callback) => {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    if (ws.readyState === ws.CLOSED) {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
      return;
    }
    // Finished once the closing handshake is over: before the readable side ends (ws' order).
    ws.prependOnceListener('close', () => {
      callback();
      if (duplex._readableState.endEmitted) duplex.destroy();
    });
    ws.close();
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = (chunk, encoding, callback) => {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', () => {
    if (!duplex.destroyed && duplex._writableState.finished) duplex.destroy();
  });
  duplex.on('error', function onError() {
    this.destroy();
  });
  return duplex;
}

module.exports = createWebSocketStream;
