/*
 * Per-thread store connections (see store_conns.h).
 */
#include "store_conns.h"

#include <stddef.h>

static void unlink_conn(store_conns *set, store_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        set->list = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
}

/* pthread key destructor: a thread that exits closes its connection. */
static void thread_exit(void *p)
{
    store_conn *c = p;
    store_conns *set = c->owner;
    pthread_mutex_lock(&set->lock);
    unlink_conn(set, c);
    pthread_mutex_unlock(&set->lock);
    set->close(c);
}

int store_conns_init(store_conns *set, void (*close)(store_conn *conn))
{
    set->list = NULL;
    set->close = close;
    if (pthread_key_create(&set->key, thread_exit) != 0)
        return -1;
    pthread_mutex_init(&set->lock, NULL);
    return 0;
}

store_conn *store_conns_mine(store_conns *set)
{
    return pthread_getspecific(set->key);
}

void store_conns_add(store_conns *set, store_conn *c)
{
    c->owner = set;
    c->prev = NULL;
    pthread_mutex_lock(&set->lock);
    c->next = set->list;
    if (set->list != NULL)
        set->list->prev = c;
    set->list = c;
    pthread_mutex_unlock(&set->lock);
    pthread_setspecific(set->key, c);
}

void store_conns_destroy(store_conns *set)
{
    pthread_setspecific(set->key, NULL);
    pthread_mutex_lock(&set->lock);
    while (set->list != NULL) {
        store_conn *c = set->list;
        unlink_conn(set, c);
        set->close(c);
    }
    pthread_mutex_unlock(&set->lock);
    pthread_key_delete(set->key);
    pthread_mutex_destroy(&set->lock);
}
