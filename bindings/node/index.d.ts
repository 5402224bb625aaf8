// Type declarations for wsc, the Node.js binding of libwsc.
//
// wsc is meant to be a drop-in replacement for the `ws` package (version 8):
// the module has the same shape, `module.exports = WebSocket`, with the
// `WebSocket`, `WebSocketServer`, `Server` and `createWebSocketStream`
// properties hanging off the exported class. These declarations were written
// against ws 8's documentation (doc/ws.md) and its lib/*.js sources; they also
// describe the few ws 2.x era names wsc keeps (`upgradeReq`, `bytesReceived`,
// `protocolVersion`, and the `flags` argument of `'message'` listeners).
//
// Both of these forms work:
//
//     import WebSocket = require('wsc');
//     import WebSocket, { WebSocketServer } from 'wsc'; // with esModuleInterop

/// <reference types="node" />

import { EventEmitter } from 'events';
import {
    ClientRequest,
    IncomingMessage,
    OutgoingHttpHeaders,
    Server as HTTPServer,
} from 'http';
import { Server as HTTPSServer, RequestOptions as HTTPSRequestOptions } from 'https';
import { AddressInfo as NetAddressInfo } from 'net';
import { Duplex, DuplexOptions } from 'stream';
import { PeerCertificate, SecureContextOptions } from 'tls';
import { URL } from 'url';
import { ZlibOptions } from 'zlib';

/**
 * A WebSocket connection: either a client made with `new WebSocket(url)`, or
 * the server side of a connection accepted by a `WebSocketServer`.
 */
declare class WebSocket extends EventEmitter {
    /** The connection is not yet open. */
    static readonly CONNECTING: 0;
    /** The connection is open and ready to communicate. */
    static readonly OPEN: 1;
    /** The closing handshake is under way. */
    static readonly CLOSING: 2;
    /** The connection is closed (or could not be opened). */
    static readonly CLOSED: 3;

    /** Same as `WebSocket.CONNECTING`. */
    readonly CONNECTING: 0;
    /** Same as `WebSocket.OPEN`. */
    readonly OPEN: 1;
    /** Same as `WebSocket.CLOSING`. */
    readonly CLOSING: 2;
    /** Same as `WebSocket.CLOSED`. */
    readonly CLOSED: 3;

    /**
     * Opens a client connection.
     *
     * @param address `ws:`, `wss:`, `http:`, `https:` or `ws+unix:` URL.
     * @param protocols Subprotocol, or list of subprotocols, to offer.
     * @param options Connection options.
     */
    constructor(address: string | URL, protocols?: string | string[], options?: WebSocket.ClientOptions);
    constructor(address: string | URL, options?: WebSocket.ClientOptions);

    /**
     * How binary messages are handed to `'message'` listeners: a `Buffer`
     * (`'nodebuffer'`, the default), an `ArrayBuffer` (`'arraybuffer'`), or
     * the array of `Buffer`s the message arrived in (`'fragments'`).
     * Assigning any other value is ignored.
     */
    binaryType: WebSocket.BinaryType;

    /**
     * Bytes queued by `send()` (framing included) that have not been handed
     * to the network yet.
     */
    readonly bufferedAmount: number;

    /**
     * The names of the negotiated extensions, comma separated
     * (`'permessage-deflate'` or `''`).
     */
    readonly extensions: string;

    /** Whether `pause()` is in effect. */
    readonly isPaused: boolean;

    /** The subprotocol the server selected, or `''`. */
    readonly protocol: string;

    /** One of the four ready-state constants. */
    readonly readyState:
        | typeof WebSocket.CONNECTING
        | typeof WebSocket.OPEN
        | typeof WebSocket.CLOSING
        | typeof WebSocket.CLOSED;

    /** The URL of the server (clients only). */
    readonly url: string;

    // --- ws 2.x names kept by wsc -------------------------------------------

    /**
     * The HTTP upgrade request of a server-side connection (ws 2.x). Newer code
     * should use the `request` argument of the server's `'connection'` event.
     */
    upgradeReq?: IncomingMessage;

    /** Number of bytes received on this connection so far (ws 2.x). */
    readonly bytesReceived: number;

    /** The `Sec-WebSocket-Version` of this connection: 13, or 8 (ws 2.x). */
    readonly protocolVersion: number;

    // --- WHATWG-style attribute handlers -----------------------------------

    /** Called with an `Event` once the connection is open. */
    onopen: ((this: WebSocket, event: WebSocket.Event) => void) | null;
    /** Called with an `ErrorEvent` when an error occurs. */
    onerror: ((this: WebSocket, event: WebSocket.ErrorEvent) => void) | null;
    /** Called with a `CloseEvent` once the connection is closed. */
    onclose: ((this: WebSocket, event: WebSocket.CloseEvent) => void) | null;
    /** Called with a `MessageEvent` for every message received. */
    onmessage: ((this: WebSocket, event: WebSocket.MessageEvent) => void) | null;

    // --- methods ------------------------------------------------------------

    /**
     * Starts the closing handshake.
     *
     * @param code Status code telling why the connection is closed.
     * @param data Reason, at most 123 bytes once UTF-8 encoded.
     */
    close(code?: number, data?: string | Buffer): void;

    /**
     * Sends a ping frame. Throws if the connection is still `CONNECTING`.
     *
     * @param data Payload (at most 125 bytes).
     * @param mask Whether to mask the payload; defaults to `true` on clients.
     * @param cb Called once the frame is written, or with the error.
     */
    ping(cb?: (err?: Error) => void): void;
    ping(data?: WebSocket.SendData, cb?: (err?: Error) => void): void;
    ping(data?: WebSocket.SendData, mask?: boolean, cb?: (err?: Error) => void): void;

    /**
     * Sends a pong frame. Throws if the connection is still `CONNECTING`.
     *
     * @param data Payload (at most 125 bytes).
     * @param mask Whether to mask the payload; defaults to `true` on clients.
     * @param cb Called once the frame is written, or with the error.
     */
    pong(cb?: (err?: Error) => void): void;
    pong(data?: WebSocket.SendData, cb?: (err?: Error) => void): void;
    pong(data?: WebSocket.SendData, mask?: boolean, cb?: (err?: Error) => void): void;

    /**
     * Stops reading from the connection, so that no more events are emitted
     * once what is already buffered has been delivered. No-op while
     * `CONNECTING` or once `CLOSED`.
     */
    pause(): void;

    /** Undoes `pause()`. No-op while `CONNECTING` or once `CLOSED`. */
    resume(): void;

    /**
     * Sends a message (or, with `fin: false`, a fragment of one). Strings are
     * sent as text unless `binary` says otherwise; everything else as binary.
     * Throws if the connection is still `CONNECTING`.
     *
     * @param cb Called once the data is written, or with the error.
     */
    send(data: WebSocket.SendData, cb?: (err?: Error) => void): void;
    send(data: WebSocket.SendData, options: WebSocket.SendOptions, cb?: (err?: Error) => void): void;

    /** Destroys the connection at once, without a closing handshake. */
    terminate(): void;

    /**
     * Registers a WHATWG-style listener, which receives an event object.
     * Only `'open'`, `'message'`, `'error'` and `'close'` are supported;
     * other types are ignored. Adding the same listener twice has no effect.
     */
    addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
        type: K,
        listener: WebSocket.EventListenerOf<WebSocket.WebSocketEventMap[K]>,
        options?: WebSocket.EventListenerOptions,
    ): void;

    /** Removes a listener added with `addEventListener()`. */
    removeEventListener<K extends keyof WebSocket.WebSocketEventMap>(
        type: K,
        listener: WebSocket.EventListenerOf<WebSocket.WebSocketEventMap[K]>,
    ): void;

    // --- EventEmitter events ------------------------------------------------
    //
    // 'open'                 ()
    // 'message'              (data, isBinary, flags)   flags: ws 2.x { binary }
    // 'close'                (code, reason)
    // 'error'                (err)
    // 'ping' / 'pong'        (data)
    // 'redirect'             (url, request)            clients following redirects
    // 'unexpected-response'  (request, response)       clients: not a 101 answer
    // 'upgrade'              (response)                clients: the 101 answer

    on(event: 'open', listener: (this: WebSocket) => void): this;
    on(event: 'message', listener: WebSocket.MessageListener): this;
    on(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
    on(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
    on(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
    on(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
    on(
        event: 'unexpected-response',
        listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
    ): this;
    on(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
    on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;

    once(event: 'open', listener: (this: WebSocket) => void): this;
    once(event: 'message', listener: WebSocket.MessageListener): this;
    once(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
    once(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
    once(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
    once(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
    once(
        event: 'unexpected-response',
        listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
    ): this;
    once(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
    once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;

    off(event: 'open', listener: (this: WebSocket) => void): this;
    off(event: 'message', listener: WebSocket.MessageListener): this;
    off(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
    off(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
    off(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
    off(event: 'redirect', listener: (this: WebSocket, url: string, request: ClientRequest) => void): this;
    off(
        event: 'unexpected-response',
        listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
    ): this;
    off(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
    off(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;

    addListener(event: 'open', listener: (this: WebSocket) => void): this;
    addListener(event: 'message', listener: WebSocket.MessageListener): this;
    addListener(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
    addListener(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
    addListener(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
    addListener(
        event: 'redirect',
        listener: (this: WebSocket, url: string, request: ClientRequest) => void,
    ): this;
    addListener(
        event: 'unexpected-response',
        listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
    ): this;
    addListener(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
    addListener(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;

    removeListener(event: 'open', listener: (this: WebSocket) => void): this;
    removeListener(event: 'message', listener: WebSocket.MessageListener): this;
    removeListener(event: 'close', listener: (this: WebSocket, code: number, reason: Buffer) => void): this;
    removeListener(event: 'error', listener: (this: WebSocket, err: Error) => void): this;
    removeListener(event: 'ping' | 'pong', listener: (this: WebSocket, data: Buffer) => void): this;
    removeListener(
        event: 'redirect',
        listener: (this: WebSocket, url: string, request: ClientRequest) => void,
    ): this;
    removeListener(
        event: 'unexpected-response',
        listener: (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void,
    ): this;
    removeListener(event: 'upgrade', listener: (this: WebSocket, response: IncomingMessage) => void): this;
    removeListener(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
}

// Another name for the class, for use inside the namespace below, where
// `WebSocket` names the namespace's own `WebSocket` member.
declare const WebSocketAlias: typeof WebSocket;
interface WebSocketAlias extends WebSocket {}

declare namespace WebSocket {
    // --- data ----------------------------------------------------------------

    /** What `binaryType` may be set to. */
    type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

    /**
     * A message as handed to `'message'` listeners: a `Buffer`, an
     * `ArrayBuffer` or an array of `Buffer`s, depending on `binaryType`. Text
     * messages arrive as `Buffer`s too (with `isBinary` false).
     */
    type RawData = Buffer | ArrayBuffer | Buffer[];

    /** A message in either form: text as a string, or raw data. */
    type Data = string | RawData;

    /**
     * What `send()`, `ping()` and `pong()` accept. Numbers are sent as their
     * decimal text; arrays of numbers as the bytes they list. `Buffer[]` is
     * accepted so that a received `RawData` can be passed straight back.
     */
    type SendData =
        | string
        | number
        | Buffer
        | ArrayBuffer
        | SharedArrayBuffer
        | ArrayBufferView
        | readonly number[]
        | RawData;

    /** Options of `send()`. */
    interface SendOptions {
        /** Send as a binary message; the default is text for strings only. */
        binary?: boolean | undefined;
        /** Compress with permessage-deflate, if it was negotiated (default `true`). */
        compress?: boolean | undefined;
        /** Whether this is the last fragment of the message (default `true`). */
        fin?: boolean | undefined;
        /** Mask the payload; defaults to `true` on clients, `false` on servers. */
        mask?: boolean | undefined;
    }

    /** The ws 2.x `flags` argument of `'message'` listeners. */
    interface MessageFlags {
        /** Whether the message was binary (same as `isBinary`). */
        binary: boolean;
    }

    /**
     * A `'message'` listener: `(data, isBinary)`, optionally taking the ws 2.x
     * `flags` object as a third argument.
     */
    type MessageListener = (
        this: WebSocket,
        data: RawData,
        isBinary: boolean,
        flags: MessageFlags,
    ) => void;

    // --- certificates and handshake hooks ----------------------------------

    /** A certificate, or key, as a string, a Buffer, or a list of those. */
    type CertMeta = string | string[] | Buffer | Buffer[];

    /** What `verifyClient` is told about a handshake. */
    interface VerifyClientInfo<Request extends IncomingMessage = IncomingMessage> {
        /**
         * The `Origin` header (`Sec-WebSocket-Origin` for protocol version
         * 8). Typed `string` as ws documents it, but `undefined` at run time
         * when the client sent no such header.
         */
        origin: string;
        /** Whether the connection is over TLS. */
        secure: boolean;
        /** The HTTP upgrade request. */
        req: Request;
    }

    /** A `verifyClient` that decides at once: return `true` to accept. */
    type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (
        info: VerifyClientInfo<Request>,
    ) => boolean;

    /**
     * A `verifyClient` that answers through `callback`: `callback(true)`
     * accepts; `callback(false, code, reason, headers)` refuses with that HTTP
     * status (401 by default), reason phrase and extra headers.
     */
    type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
        info: VerifyClientInfo<Request>,
        callback: (
            result: boolean,
            code?: number,
            name?: string,
            headers?: OutgoingHttpHeaders,
        ) => void,
    ) => void;

    /**
     * The type of the `verifyClient` option: either of the two forms above.
     * (A single signature, so that inline functions get their parameters
     * typed; the server tells the forms apart by their parameter count.)
     */
    type VerifyClientCallback<Request extends IncomingMessage = IncomingMessage> = (
        info: VerifyClientInfo<Request>,
        callback: Parameters<VerifyClientCallbackAsync<Request>>[1],
    ) => boolean | void;

    // --- options --------------------------------------------------------------

    /** Parameters of the permessage-deflate extension (RFC 7692). */
    interface PerMessageDeflateOptions {
        /** Request (client) or use (server) no server context takeover. */
        serverNoContextTakeover?: boolean | undefined;
        /** Offer (client) or acknowledge (server) no client context takeover. */
        clientNoContextTakeover?: boolean | undefined;
        /** The server's LZ77 window size, 8 to 15; `true` just offers the parameter. */
        serverMaxWindowBits?: number | boolean | undefined;
        /** The client's LZ77 window size, 8 to 15; `true` just offers the parameter. */
        clientMaxWindowBits?: number | boolean | undefined;
        /** Extra options for the zlib deflate streams. */
        zlibDeflateOptions?: ZlibOptions | undefined;
        /** Extra options for the zlib inflate streams. */
        zlibInflateOptions?: ZlibOptions | undefined;
        /**
         * Messages smaller than this many bytes are not compressed when
         * context takeover is disabled (default 1024). For a fragmented
         * message the first fragment decides.
         */
        threshold?: number | undefined;
        /** How many zlib operations may run at once; the rest queue (default 10). */
        concurrencyLimit?: number | undefined;
    }

    /** Options shared by clients and servers. */
    interface ConnectionOptions {
        /**
         * Whether several `'message'`, `'ping'` and `'pong'` events may be
         * emitted in the same tick (default `true`). `false` is closer to the
         * WHATWG standard, and slower.
         */
        allowSynchronousEvents?: boolean | undefined;
        /** Answer pings with pongs automatically (default `true`). */
        autoPong?: boolean | undefined;
        /**
         * Milliseconds to wait for the closing handshake after `close()`
         * before the connection is destroyed (default 30000).
         */
        closeTimeout?: number | undefined;
        /** Largest message accepted, in bytes (default 100 MiB; 0: no limit). */
        maxPayload?: number | undefined;
        /** Most data chunks buffered for one message (0: no limit). */
        maxBufferedChunks?: number | undefined;
        /** Most fragments in one message (0: no limit). */
        maxFragments?: number | undefined;
        /** Most automatic pongs waiting to be written. */
        maxPendingAutoPongs?: number | undefined;
        /** Skip UTF-8 validation of text messages and close reasons (default `false`). */
        skipUTF8Validation?: boolean | undefined;
    }

    /** HTTP request options that the WebSocket URL decides instead. */
    type ClientRequestOptionsFromURL =
        | 'host'
        | 'hostname'
        | 'path'
        | 'port'
        | 'protocol'
        | 'socketPath'
        | 'method'
        | 'timeout';

    /**
     * Options of `new WebSocket()`. Besides its own, a client takes the
     * options of `http.request()` / `https.request()` (TLS ones included),
     * except those the URL decides.
     */
    interface ClientOptions
        extends ConnectionOptions, Omit<HTTPSRequestOptions, ClientRequestOptionsFromURL> {
        /** Follow 3xx redirects (default `false`). */
        followRedirects?: boolean | undefined;
        /** Most redirects followed (default 10). */
        maxRedirects?: number | undefined;
        /** Timeout of the opening handshake, in milliseconds; restarted on each redirect. */
        handshakeTimeout?: number | undefined;
        /** Value of the `Origin` (or, for protocol version 8, `Sec-WebSocket-Origin`) header. */
        origin?: string | undefined;
        /** Offer permessage-deflate (default `true`), optionally with parameters. */
        perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
        /** `Sec-WebSocket-Version` to send: 13 (default) or 8. */
        protocolVersion?: number | undefined;
        /** Subprotocols to offer, when not given as the constructor's second argument. */
        protocols?: string | string[] | undefined;
        /**
         * Fills the 4-byte masking key of each outgoing frame, synchronously
         * (by default, with cryptographically strong random bytes).
         */
        generateMask?: ((mask: Buffer) => void) | undefined;
        /** Extra headers of the opening handshake. */
        headers?: OutgoingHttpHeaders | undefined;
        /**
         * Called with each handshake request (the first, and one per
         * redirect) just before it is sent, to adjust its headers. It must
         * call `request.end()` itself.
         */
        finishRequest?: ((request: ClientRequest, websocket: WebSocket) => void) | undefined;

        // TLS (wss:)
        /** Trusted CA certificates, replacing the default list. */
        ca?: SecureContextOptions['ca'] | undefined;
        /** Client certificate chain, PEM. */
        cert?: SecureContextOptions['cert'] | undefined;
        /** Client private key, PEM. */
        key?: SecureContextOptions['key'] | undefined;
        /** Passphrase of `key` (or of `pfx`). */
        passphrase?: string | undefined;
        /** Verify the server's certificate (default `true`). */
        rejectUnauthorized?: boolean | undefined;
        /** SNI name and name to verify; defaults to the URL's host. */
        servername?: string | undefined;
        /** Custom host name check of the server's certificate. */
        checkServerIdentity?: ((hostname: string, cert: PeerCertificate) => Error | undefined) | undefined;
    }

    /** Options of `new WebSocketServer()`. */
    interface ServerOptions<T extends typeof WebSocketAlias = typeof WebSocketAlias> extends ConnectionOptions {
        /** Host name or address to listen on (with `port`). */
        host?: string | undefined;
        /** Port to listen on; the server then makes and owns its HTTP server. */
        port?: number | undefined;
        /** Length of the queue of pending connections (with `port`). */
        backlog?: number | undefined;
        /** An HTTP/S server, made and started by the caller, whose upgrades to take over. */
        server?: HTTPServer | HTTPSServer | undefined;
        /**
         * Decides whether to accept a handshake, synchronously (one
         * parameter) or through a callback (two parameters).
         */
        verifyClient?: VerifyClientCallback | undefined;
        /**
         * Picks the subprotocol from those the client offered; `false` picks
         * none. By default the first one offered is picked.
         */
        handleProtocols?: ((protocols: Set<string>, request: IncomingMessage) => string | false) | undefined;
        /** Accept only requests for this path. */
        path?: string | undefined;
        /**
         * No HTTP server at all: upgrades are handed over by calling
         * `handleUpgrade()`.
         */
        noServer?: boolean | undefined;
        /** Keep the connected clients in `clients` (default `true`). */
        clientTracking?: boolean | undefined;
        /** Accept permessage-deflate (default `false`), optionally with parameters. */
        perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
        /** The class of the connections made; `WebSocket` or a subclass of it. */
        WebSocket?: T | undefined;
    }

    /** The bound address of a server listening on an IP socket. */
    interface AddressInfo extends NetAddressInfo {
        address: string;
        family: string;
        port: number;
    }

    // --- WHATWG-style events ----------------------------------------------

    /** The base of the events handed to `addEventListener()` listeners. */
    interface Event {
        /** `'open'`, `'message'`, `'error'` or `'close'`. */
        readonly type: string;
        /** The WebSocket the event happened on. */
        readonly target: WebSocket;
    }

    /** Handed to `'close'` listeners. */
    interface CloseEvent extends Event {
        /** The close status code (1005 when the peer sent none, 1006 when no close frame came). */
        readonly code: number;
        /** The close reason. */
        readonly reason: string;
        /** Whether close frames were both sent and received. */
        readonly wasClean: boolean;
    }

    /** Handed to `'message'` listeners. */
    interface MessageEvent extends Event {
        /** Text messages as a string, binary ones as `binaryType` says. */
        readonly data: Data;
    }

    /** Handed to `'error'` listeners. */
    interface ErrorEvent extends Event {
        /** The error. */
        readonly error: any;
        /** Its message. */
        readonly message: string;
    }

    /** The event types `addEventListener()` knows, with their event objects. */
    interface WebSocketEventMap {
        open: Event;
        message: MessageEvent;
        error: ErrorEvent;
        close: CloseEvent;
    }

    /** A listener of `addEventListener()`: a function, or an object with `handleEvent()`. */
    type EventListenerOf<E extends Event = Event> =
        | ((this: WebSocket, event: E) => void)
        | { handleEvent(event: E): void };

    /** Options of `addEventListener()`. */
    interface EventListenerOptions {
        /** Remove the listener after its first call. */
        once?: boolean | undefined;
    }

    // --- the module's properties -------------------------------------------

    /** The module itself: `require('wsc').WebSocket === require('wsc')`. */
    const WebSocket: typeof WebSocketAlias;
    interface WebSocket extends WebSocketAlias {}

    /**
     * A WebSocket server. It listens on its own HTTP server (`port`), takes
     * over the upgrades of an existing one (`server`), or has none and is
     * handed upgrades through `handleUpgrade()` (`noServer`). Exactly one of
     * the three must be given.
     */
    class WebSocketServer<T extends typeof WebSocketAlias = typeof WebSocketAlias> extends EventEmitter {
        /** The options, completed with their defaults. */
        options: ServerOptions<T>;
        /** The path connections are accepted on (the `path` option). */
        path: string;
        /** The connected clients; only kept when `clientTracking` is on. */
        clients: Set<InstanceType<T>>;

        /**
         * @param options Where to listen, and how connections behave.
         * @param callback With `port`, a listener of the `'listening'` event.
         */
        constructor(options?: ServerOptions<T>, callback?: () => void);

        /**
         * Where the underlying HTTP server listens: an `AddressInfo`, the
         * path of a pipe or UNIX socket, or `null` if it is not listening.
         * Throws in `noServer` mode.
         */
        address(): AddressInfo | string | null;

        /**
         * Stops accepting connections and closes the HTTP server if it made
         * it. Open connections are left alone; `'close'` is emitted once they
         * are all gone. `cb` is called on `'close'`, with an error if the
         * server was already closed.
         */
        close(cb?: (err?: Error) => void): void;

        /**
         * Completes (or refuses) an HTTP upgrade; in `noServer` mode, call it
         * from the HTTP server's `'upgrade'` event.
         *
         * @param request The upgrade request.
         * @param socket Its socket.
         * @param upgradeHead The first bytes read after the request's headers.
         * @param callback Called with the new connection once the handshake is done.
         */
        handleUpgrade(
            request: IncomingMessage,
            socket: Duplex,
            upgradeHead: Buffer,
            callback: (client: InstanceType<T>, request: IncomingMessage) => void,
        ): void;

        /**
         * Whether this server handles a request; by default, whether its path
         * matches the `path` option. May be overridden.
         */
        shouldHandle(request: IncomingMessage): boolean | Promise<boolean>;

        // 'connection'     (socket, request)           a handshake completed
        // 'error'          (error)                     from the HTTP server
        // 'headers'        (headers, request)          response lines, modifiable, before they are sent
        // 'close'          ()                          the server is closed
        // 'listening'      ()                          the HTTP server is bound
        // 'wsClientError'  (error, socket, request)    a handshake was invalid

        on(
            event: 'connection',
            listener: (this: WebSocketServer<T>, socket: InstanceType<T>, request: IncomingMessage) => void,
        ): this;
        on(event: 'error', listener: (this: WebSocketServer<T>, error: Error) => void): this;
        on(
            event: 'headers',
            listener: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void,
        ): this;
        on(event: 'close' | 'listening', listener: (this: WebSocketServer<T>) => void): this;
        on(
            event: 'wsClientError',
            listener: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void,
        ): this;
        on(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;

        once(
            event: 'connection',
            listener: (this: WebSocketServer<T>, socket: InstanceType<T>, request: IncomingMessage) => void,
        ): this;
        once(event: 'error', listener: (this: WebSocketServer<T>, error: Error) => void): this;
        once(
            event: 'headers',
            listener: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void,
        ): this;
        once(event: 'close' | 'listening', listener: (this: WebSocketServer<T>) => void): this;
        once(
            event: 'wsClientError',
            listener: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void,
        ): this;
        once(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;

        off(
            event: 'connection',
            listener: (this: WebSocketServer<T>, socket: InstanceType<T>, request: IncomingMessage) => void,
        ): this;
        off(event: 'error', listener: (this: WebSocketServer<T>, error: Error) => void): this;
        off(
            event: 'headers',
            listener: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void,
        ): this;
        off(event: 'close' | 'listening', listener: (this: WebSocketServer<T>) => void): this;
        off(
            event: 'wsClientError',
            listener: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void,
        ): this;
        off(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;

        addListener(
            event: 'connection',
            listener: (this: WebSocketServer<T>, socket: InstanceType<T>, request: IncomingMessage) => void,
        ): this;
        addListener(event: 'error', listener: (this: WebSocketServer<T>, error: Error) => void): this;
        addListener(
            event: 'headers',
            listener: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void,
        ): this;
        addListener(event: 'close' | 'listening', listener: (this: WebSocketServer<T>) => void): this;
        addListener(
            event: 'wsClientError',
            listener: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void,
        ): this;
        addListener(
            event: string | symbol,
            listener: (this: WebSocketServer<T>, ...args: any[]) => void,
        ): this;

        removeListener(
            event: 'connection',
            listener: (this: WebSocketServer<T>, socket: InstanceType<T>, request: IncomingMessage) => void,
        ): this;
        removeListener(event: 'error', listener: (this: WebSocketServer<T>, error: Error) => void): this;
        removeListener(
            event: 'headers',
            listener: (this: WebSocketServer<T>, headers: string[], request: IncomingMessage) => void,
        ): this;
        removeListener(event: 'close' | 'listening', listener: (this: WebSocketServer<T>) => void): this;
        removeListener(
            event: 'wsClientError',
            listener: (this: WebSocketServer<T>, error: Error, socket: Duplex, request: IncomingMessage) => void,
        ): this;
        removeListener(
            event: string | symbol,
            listener: (this: WebSocketServer<T>, ...args: any[]) => void,
        ): this;
    }

    /** The older name of `WebSocketServer`. */
    const Server: typeof WebSocketServer;
    interface Server<T extends typeof WebSocketAlias = typeof WebSocketAlias> extends WebSocketServer<T> {}

    /**
     * Wraps a WebSocket in a `Duplex` stream: what is written to it is sent as
     * messages, and messages received are read from it.
     *
     * @param websocket The connection to wrap.
     * @param options Options of the `Duplex` constructor.
     */
    function createWebSocketStream(websocket: WebSocket, options?: DuplexOptions): Duplex;
}

export = WebSocket;
