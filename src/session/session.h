/* session: the control loop's side of sessions — takes each durable session from the API
 * threads (through a libre mqueue) and works it: place the call, run the IVR, record
 * what happened. Every function but session_mgr_enqueue runs on the control loop. */
#ifndef CCCD_SESSION_H
#define CCCD_SESSION_H

#include <stddef.h>

struct store;
struct store_session;
struct session_mgr;

/* On the control loop; also picks up the sessions a previous run left unfinished. */
int session_mgr_alloc(struct session_mgr **mp, struct store *st);

/* Thread-safe: hands a durable session to the control loop (takes a reference). */
int session_mgr_enqueue(struct session_mgr *m, struct store_session *s);

/* Sessions handed over and not yet finished. */
size_t session_mgr_active(const struct session_mgr *m);

#endif
