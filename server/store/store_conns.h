/*
 * The per-thread connections every store backend keeps (store.h: "each
 * thread gets its own connection"): a thread's connection is found through
 * a pthread key, closed when the thread exits, and every open one is closed
 * with the store. A backend embeds store_conn as the first member of its
 * connection struct and gives the set its close function.
 */
#ifndef TMO_STORE_CONNS_H
#define TMO_STORE_CONNS_H

#include <pthread.h>

typedef struct store_conn {
    struct store_conns *owner;
    struct store_conn *next, *prev;
} store_conn;

typedef struct store_conns {
    pthread_key_t key;
    pthread_mutex_t lock;
    store_conn *list;                /* every open connection */
    void (*close)(store_conn *conn); /* the backend's: closes and frees it */
} store_conns;

/* 0, or -1 when no thread-local key is available. */
int store_conns_init(store_conns *set, void (*close)(store_conn *conn));
/* The calling thread's connection, NULL before store_conns_add. */
store_conn *store_conns_mine(store_conns *set);
/* Makes conn the calling thread's connection. */
void store_conns_add(store_conns *set, store_conn *conn);
/* Closes every connection still open and releases the key. */
void store_conns_destroy(store_conns *set);

#endif
