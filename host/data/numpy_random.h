/* A reproduction of NumPy's legacy RandomState (the generator behind
 * scikit-learn's random_state=int): MT19937 seeded with init_genrand, 53-bit
 * doubles, the polar Gaussian with its cached second value, masked bounded
 * integers and Fisher-Yates shuffles. Identical seeds give identical streams,
 * so make_blobs and train_test_split match scikit-learn bit for bit.
 *
 * The state is a plain struct the caller owns; nothing here is global, so
 * any number of generators may run on any threads. */
#ifndef CLSEQ_NUMPY_RANDOM_H
#define CLSEQ_NUMPY_RANDOM_H

#include <stddef.h>
#include <stdint.h>

enum { CLSEQ_NP_MT_N = 624 };

typedef struct clseq_np_random {
    uint32_t mt[CLSEQ_NP_MT_N]; /* MT19937 state words */
    int pos;                    /* next word to temper; CLSEQ_NP_MT_N = regenerate */
    int has_gauss;              /* 1 if gauss holds the pair's unused value */
    double gauss;
} clseq_np_random;

/* RandomState(seed): init_genrand(seed), no cached Gaussian. */
void clseq_np_seed(clseq_np_random *rs, uint32_t seed);
/* The next raw 32-bit MT19937 output. */
uint32_t clseq_np_next32(clseq_np_random *rs);
/* Two 32-bit outputs, the first in the high half (NumPy's next_uint64). */
uint64_t clseq_np_next64(clseq_np_random *rs);
/* random_sample(): a double in [0, 1) from 53 random bits. */
double clseq_np_random_sample(clseq_np_random *rs);
/* uniform(low, high) = low + (high - low) * random_sample(). */
double clseq_np_uniform(clseq_np_random *rs, double low, double high);
/* The legacy standard normal (polar Box-Muller, second value cached). */
double clseq_np_gauss(clseq_np_random *rs);
/* normal(loc, scale) = loc + scale * gauss(). */
double clseq_np_normal(clseq_np_random *rs, double loc, double scale);
/* A uniform integer in [0, max] by mask rejection (NumPy's random_interval). */
uint64_t clseq_np_interval(clseq_np_random *rs, uint64_t max);
/* RandomState.shuffle on a 1-d array of n indices. */
void clseq_np_shuffle(clseq_np_random *rs, size_t *a, size_t n);
/* RandomState.permutation(n): out[0..n) gets a shuffled arange(n). */
void clseq_np_permutation(clseq_np_random *rs, size_t n, size_t *out);

#endif
