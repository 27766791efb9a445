/* NumPy's legacy RandomState, rebuilt from the published MT19937 algorithm
 * (Matsumoto & Nishimura, 1998) and NumPy's documented legacy conversions.
 * Every formula here is the one NumPy uses, evaluated in the same order, so
 * the doubles come out bit-identical, not merely statistically equivalent. */
#include "data/numpy_random.h"

#include <math.h>

enum { MT_M = 397 };
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

void clseq_np_seed(clseq_np_random *rs, uint32_t seed)
{
    /* init_genrand: Knuth's multiplier spreads the seed over all words. */
    rs->mt[0] = seed;
    for (uint32_t i = 1; i < CLSEQ_NP_MT_N; i++) {
        uint32_t prev = rs->mt[i - 1];
        rs->mt[i] = 1812433253u * (prev ^ (prev >> 30)) + i;
    }
    rs->pos = CLSEQ_NP_MT_N;
    rs->has_gauss = 0;
    rs->gauss = 0.0;
}

/* One twist of the whole state: mixes word i with i+1 and i+M. */
static void mt_twist(clseq_np_random *rs)
{
    uint32_t *mt = rs->mt;
    for (int i = 0; i < CLSEQ_NP_MT_N; i++) {
        uint32_t y = (mt[i] & MT_UPPER) | (mt[(i + 1) % CLSEQ_NP_MT_N] & MT_LOWER);
        uint32_t next = mt[(i + MT_M) % CLSEQ_NP_MT_N] ^ (y >> 1);
        mt[i] = (y & 1u) ? next ^ MT_MATRIX_A : next;
    }
    rs->pos = 0;
}

uint32_t clseq_np_next32(clseq_np_random *rs)
{
    if (rs->pos >= CLSEQ_NP_MT_N)
        mt_twist(rs);
    uint32_t y = rs->mt[rs->pos++];
    /* Tempering improves equidistribution of the output bits. */
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint64_t clseq_np_next64(clseq_np_random *rs)
{
    uint64_t hi = clseq_np_next32(rs);
    return (hi << 32) | clseq_np_next32(rs);
}

double clseq_np_random_sample(clseq_np_random *rs)
{
    /* genrand_res53: 27 + 26 bits make a 53-bit mantissa. */
    uint32_t a = clseq_np_next32(rs) >> 5;
    uint32_t b = clseq_np_next32(rs) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

double clseq_np_uniform(clseq_np_random *rs, double low, double high)
{
    /* NumPy computes the range first, then low + range * sample. */
    double range = high - low;
    return low + range * clseq_np_random_sample(rs);
}

double clseq_np_gauss(clseq_np_random *rs)
{
    if (rs->has_gauss) {
        rs->has_gauss = 0;
        return rs->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * clseq_np_random_sample(rs) - 1.0;
        x2 = 2.0 * clseq_np_random_sample(rs) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    /* Polar Box-Muller yields two normals; NumPy returns the second and
     * keeps the first for the next call. */
    double f = sqrt(-2.0 * log(r2) / r2);
    rs->gauss = f * x1;
    rs->has_gauss = 1;
    return f * x2;
}

double clseq_np_normal(clseq_np_random *rs, double loc, double scale)
{
    return loc + scale * clseq_np_gauss(rs);
}

/* The smallest all-ones mask covering max. */
static uint64_t covering_mask(uint64_t max)
{
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    return mask;
}

uint64_t clseq_np_interval(clseq_np_random *rs, uint64_t max)
{
    if (max == 0)
        return 0;
    uint64_t mask = covering_mask(max);
    uint64_t value;
    /* Rejection keeps every value in [0, max] equally likely; NumPy draws
     * 32 bits when they suffice, which changes the stream, so we must too. */
    if (max <= 0xffffffffu) {
        do {
            value = clseq_np_next32(rs) & mask;
        } while (value > max);
    } else {
        do {
            value = clseq_np_next64(rs) & mask;
        } while (value > max);
    }
    return value;
}

void clseq_np_shuffle(clseq_np_random *rs, size_t *a, size_t n)
{
    /* Fisher-Yates from the end, as RandomState.shuffle does. */
    for (size_t i = n > 0 ? n - 1 : 0; i >= 1; i--) {
        size_t j = (size_t)clseq_np_interval(rs, (uint64_t)i);
        size_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void clseq_np_permutation(clseq_np_random *rs, size_t n, size_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = i;
    clseq_np_shuffle(rs, out, n);
}
