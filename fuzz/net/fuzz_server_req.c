/*
 * libFuzzer target for the server's whole request path (server/router.c,
 * auth.c, every h_*.c handler) in process, against an in-memory store that
 * holds a small known fleet and is put back before each input (see
 * net_server.h for the input format). Aborts on a 500, a status outside
 * 200..599, an error without the P-3 envelope or a bad Content-Range;
 * LeakSanitizer catches handlers that leak.
 *
 * Seeds: fuzz/corpus/server_req (one or more per route, written by
 * gen_net_corpus). Replayed in every build by corpus_replay.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "net_server.h"

#include "corpus_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_run(data, size);
    return 0;
}

/* A valid-* seed's (last) request must succeed. */
int fuzz_seed_valid(const uint8_t *data, size_t size)
{
    int status = ns_run(data, size);
    return status >= 200 && status < 400;
}
