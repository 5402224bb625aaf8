'use strict';
// wsc for Node: the module has ws' shape (module.exports is WebSocket, with the server, the
// stream helper and the same aliases), so switching is changing one require.
const WebSocket = require('./lib/websocket');
const WebSocketServer = require('./lib/websocket-server');
const createWebSocketStream = require('./lib/stream');
const { Event, CloseEvent, ErrorEvent, MessageEvent } = require('./lib/event-target');
const native = require('./lib/binding');

WebSocket.createWebSocketStream = createWebSocketStream;
WebSocket.Server = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Event = Event;
WebSocket.CloseEvent = CloseEvent;
WebSocket.ErrorEvent = ErrorEvent;
WebSocket.MessageEvent = MessageEvent;
// libwsc's version, and what this environment holds open (connections, servers).
WebSocket.libwscVersion = native.version();
WebSocket.activeHandles = () => native.handles();

module.exports = WebSocket;
