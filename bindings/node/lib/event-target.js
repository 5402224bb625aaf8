'use strict';
// The WHATWG side of a WebSocket: Event classes, addEventListener / removeEventListener, and the
// on<event> attributes, layered on the EventEmitter events.
const { kTarget, kListener, kForOnEventAttribute } = require('./constants');

const kType = Symbol('kType');

class Event {
  constructor(type) {
    this[kTarget] = null;
    this[kType] = type;
  }

  get target() { return this[kTarget]; }
  get type() { return this[kType]; }
}

class CloseEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this._code = init.code === undefined ? 0 : init.code;
    this._reason = init.reason === undefined ? '' : init.reason;
    this._wasClean = init.wasClean === undefined ? false : init.wasClean;
  }

  get code() { return this._code; }
  get reason() { return this._reason; }
  get wasClean() { return this._wasClean; }
}

class ErrorEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this._error = init.error === undefined ? null : init.error;
    this._message = init.message === undefined ? '' : init.message;
  }

  get error() { return this._error; }
  get message() { return this._message; }
}

class MessageEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this._data = init.data === undefined ? null : init.data;
  }

  get data() { return this._data; }
}

for (const C of [Event, CloseEvent, ErrorEvent, MessageEvent]) {
  for (const name of Object.getOwnPropertyNames(C.prototype)) {
    if (name !== 'constructor') Object.defineProperty(C.prototype, name, { enumerable: true });
  }
}

function makeEvent(type, target, args) {
  let event;
  if (type === 'message') {
    const [data, isBinary] = args;
    event = new MessageEvent('message', { data: isBinary ? data : data.toString() });
  } else if (type === 'close') {
    const [code, reason] = args;
    event = new CloseEvent('close', { code, reason: reason.toString(), wasClean: target._wasClean });
  } else if (type === 'error') {
    const [error] = args;
    event = new ErrorEvent('error', { error, message: error.message });
  } else {
    event = new Event(type);
  }
  event[kTarget] = target;
  return event;
}

function invoke(handler, thisArg, event) {
  if (typeof handler === 'object' && handler !== null && typeof handler.handleEvent === 'function') {
    handler.handleEvent.call(handler, event);
  } else {
    handler.call(thisArg, event);
  }
}

const EVENTS = new Set(['open', 'message', 'close', 'error']);

const EventTarget = {
  addEventListener(type, handler, options = {}) {
    const forAttribute = !!options[kForOnEventAttribute];
    for (const l of this.listeners(type)) {
      if (!forAttribute && l[kListener] === handler && !l[kForOnEventAttribute]) return;
    }
    if (!EVENTS.has(type)) return;
    const wrapper = function (...args) {
      invoke(handler, this, makeEvent(type, this, args));
    };
    wrapper[kForOnEventAttribute] = forAttribute;
    wrapper[kListener] = handler;
    if (options.once) this.once(type, wrapper); else this.on(type, wrapper);
  },

  removeEventListener(type, handler) {
    for (const l of this.listeners(type)) {
      if (l[kListener] === handler && !l[kForOnEventAttribute]) {
        this.removeListener(type, l);
        break;
      }
    }
  }
};

// ws.onopen = fn and friends: one attribute listener per event, replaced on assignment.
function defineOnAttributes(proto) {
  for (const type of EVENTS) {
    Object.defineProperty(proto, `on${type}`, {
      enumerable: true,
      get() {
        for (const l of this.listeners(type)) if (l[kForOnEventAttribute]) return l[kListener];
        return null;
      },
      set(handler) {
        for (const l of this.listeners(type)) {
          if (l[kForOnEventAttribute]) {
            this.removeListener(type, l);
            break;
          }
        }
        if (typeof handler !== 'function') return;
        this.addEventListener(type, handler, { [kForOnEventAttribute]: true });
      }
    });
  }
}

module.exports = { Event, CloseEvent, ErrorEvent, MessageEvent, EventTarget, defineOnAttributes };
