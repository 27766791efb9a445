#include "data/rng.h"

#include <stddef.h>

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void clseq_rng_seed(clseq_rng *rng, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&state);
}

void clseq_rng_seed_stream(clseq_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t state = stream * 0xD1B54A32D192ED03ull;
    clseq_rng_seed(rng, seed ^ (stream ? splitmix64(&state) : 0));
}

uint64_t clseq_rng_next(clseq_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float clseq_rng_uniform(clseq_rng *rng, float lo, float hi)
{
    float unit = (float)(clseq_rng_next(rng) >> 40) * 0x1p-24f;
    return lo + (hi - lo) * unit;
}

uint64_t clseq_rng_below(clseq_rng *rng, uint64_t bound)
{
    /* reject the top sliver that would make some residues more likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
        x = clseq_rng_next(rng);
    while (x >= limit);
    return x % bound;
}

void clseq_rng_shuffle(clseq_rng *rng, int *values, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)clseq_rng_below(rng, i);
        int t = values[i - 1];
        values[i - 1] = values[j];
        values[j] = t;
    }
}
