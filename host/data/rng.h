/* The model's random numbers (weight initialisation, shuffling, dropout):
 * xoshiro256** seeded through splitmix64, so a seed fixes every draw. */
#ifndef CLSEQ_RNG_H
#define CLSEQ_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct clseq_rng {
    uint64_t s[4];
} clseq_rng;

void clseq_rng_seed(clseq_rng *rng, uint64_t seed);
/* Stream number stream of seed: stream 0 is clseq_rng_seed(seed) itself;
 * others start from seed mixed with the stream number, so each purpose
 * (initialisation, shuffling, dropout) has a sequence of its own. */
void clseq_rng_seed_stream(clseq_rng *rng, uint64_t seed, uint64_t stream);
uint64_t clseq_rng_next(clseq_rng *rng);
/* Uniform in [lo, hi) with 24 random bits (a float's precision). */
float clseq_rng_uniform(clseq_rng *rng, float lo, float hi);
/* Uniform integer in [0, bound) without modulo bias; bound > 0. */
uint64_t clseq_rng_below(clseq_rng *rng, uint64_t bound);
/* Fisher-Yates shuffle of n ints. */
void clseq_rng_shuffle(clseq_rng *rng, int *values, size_t n);

#endif
