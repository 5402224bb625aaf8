/* wsc: the event loop.
 *
 * Threading: everything runs on the loop thread except the calls marked thread-safe.
 *
 * A wsc loop owns a libuv loop or wraps one its caller already runs (Node's, a C program's).
 * Sockets are watched by one epoll set of wsc's: a loop wsc owns is run by wsc_loop_run around
 * that set, with libuv's backend inside it (run an owned loop with wsc_loop_run, not uv_run);
 * a wrapped loop watches the set as one more handle of its owner's.
 * For a foreign event loop (Python's asyncio), watch wsc_loop_backend_fd() for readability,
 * wake after wsc_loop_backend_timeout() ms, and call wsc_loop_run(loop, WSC_RUN_NOWAIT).
 *
 * A loop created while SIGPIPE has its default action sets it to SIG_IGN (libuv's own writes,
 * e.g. a caller's handles on the same loop, do not use MSG_NOSIGNAL; wsc's sockets do). */
#ifndef WSC_LOOP_H
#define WSC_LOOP_H

#include "common.h"

WSC_BEGIN_DECLS

typedef struct wsc_loop_s wsc_loop_t;

/* wsc_loop_run modes (as libuv's). */
#define WSC_RUN_DEFAULT 0 /* until nothing is left to do, or wsc_loop_stop */
#define WSC_RUN_ONCE 1    /* one pass; blocks for I/O if there is nothing to do yet */
#define WSC_RUN_NOWAIT 2  /* one pass; never blocks */

/* Creates a loop. uv_loop is a uv_loop_t * to wrap (its owner keeps running and closing it), or
 * NULL for a loop of wsc's own. Returns 0, WSC_ENOMEM or WSC_EIO. */
WSC_EXTERN int wsc_loop_new(wsc_loop_t **out, void *uv_loop);

/* Runs the loop. Returns 1 if work remains (handles or requests are active), 0 if not, or a
 * negative WSC_E* code. */
WSC_EXTERN int wsc_loop_run(wsc_loop_t *loop, uint32_t mode);

/* Makes wsc_loop_run return after the current pass. */
WSC_EXTERN void wsc_loop_stop(wsc_loop_t *loop);

/* Frees the loop. Returns WSC_EBUSY while servers or connections are still open, or work runs
 * on the thread pool for it (close them and run the loop until their final callbacks), else 0.
 * NULL does nothing. */
WSC_EXTERN int wsc_loop_free(wsc_loop_t *loop);

/* The uv_loop_t * underneath: for the caller's own libuv handles on the same loop. */
WSC_EXTERN void *wsc_loop_uv(wsc_loop_t *loop);

/* For embedding: the fd to poll for readability, and the milliseconds until the next timer
 * (-1: none, 0: work is pending now). */
WSC_EXTERN int wsc_loop_backend_fd(const wsc_loop_t *loop);
WSC_EXTERN int wsc_loop_backend_timeout(const wsc_loop_t *loop);

typedef void (*wsc_loop_post_cb)(wsc_loop_t *loop, void *user_data);

/* Thread-safe. Queues cb to run on the loop thread; all callbacks queued before the loop wakes
 * run in one pass, in order. Returns 0 or WSC_ENOMEM. Not valid once wsc_loop_free has begun;
 * posts still queued when it begins run inside it.
 * Posts do not keep a loop running by themselves (see wsc_loop_keep_alive). */
WSC_EXTERN int wsc_loop_post(wsc_loop_t *loop, wsc_loop_post_cb cb, void *user_data);

/* With on = 1 the loop keeps running while nothing but posts can arrive (libuv's ref); with 0
 * (the default) it runs while servers, connections or the caller's own handles are active. */
WSC_EXTERN void wsc_loop_keep_alive(wsc_loop_t *loop, int on);

/* The number of open servers and connections on the loop, plus the compressions running on the
 * thread pool for it: wsc_loop_free succeeds once this is 0. */
WSC_EXTERN size_t wsc_loop_handle_count(const wsc_loop_t *loop);

WSC_END_DECLS

#endif /* WSC_LOOP_H */
