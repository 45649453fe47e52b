/*
 * Device classes of the simulated fleet (docs/simulator.md "Device classes"):
 * what a small Cortex-M0+, a Cortex-M4, a Cortex-M7 and a Linux gateway can
 * hold and run, so the server's capability-aware deployment has something to
 * decide. Also the "name:percent,..." splits of --mix, --groups and --tags.
 */
#ifndef TMO_SIM_CLASS_H
#define TMO_SIM_CLASS_H

#include <stddef.h>
#include <stdint.h>

#define SIM_CLASSES 4
#define SIM_MAX_SPLIT 16 /* names in one --mix / --groups / --tags list */
#define SIM_NAME_LEN 32

typedef struct sim_class {
    const char *name;         /* "m0" ... as used in --mix and scenario selectors */
    const char *arch;         /* P-9 arch, matched against a bundle's target architectures */
    uint32_t ram_bytes;       /* bounds the model's arena */
    uint32_t flash_bytes;     /* bounds the model's size; also the size of each A/B slot */
    const char *const *ops;   /* operator names it runs; NULL: every one this runtime has */
    double speed_factor;      /* simulated latency = latency measured here x factor */
    uint32_t download_chunk;  /* bytes per Range request (a small device's buffer) */
    int download_delay_ms;    /* simulated ms between chunks (a slow link) */
} sim_class;

/* The built-in classes, indexed 0 .. SIM_CLASSES - 1. */
const sim_class *sim_class_get(int index);

/* Index of a class by name, or -1. */
int sim_class_find(const char *name);

/* The P-9 profile of a class as JSON text (heap, free()); NULL when out of memory. */
char *sim_class_profile_json(const sim_class *c);

/* A parsed "name:weight,name:weight" list. */
typedef struct sim_split {
    size_t count;
    char name[SIM_MAX_SPLIT][SIM_NAME_LEN];
    double weight[SIM_MAX_SPLIT];
} sim_split;

/*
 * Parses "a:10,b:90" (weights are non-negative numbers; a bare name has
 * weight 1). what names the option in messages. Names: 1..31 chars of
 * [A-Za-z0-9_.-]. Returns 0, or -1 with a message in err.
 */
int sim_split_parse(const char *what, const char *text, sim_split *out, char *err, size_t err_len);

/*
 * Deals n items to the split's names in proportion to the weights (largest
 * remainders; ties to the earlier name), in an order shuffled by seed so
 * every id range holds a mix. out[i] is the name index of item i. -1 when
 * every weight is 0.
 */
int sim_split_deal(const sim_split *s, size_t n, uint64_t seed, int *out);

/* splitmix64: the simulator's one deterministic generator. */
uint64_t sim_rand(uint64_t *state);
/* Uniform double in [0, 1). */
double sim_rand01(uint64_t *state);

#endif
