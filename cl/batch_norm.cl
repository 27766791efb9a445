/* batch_norm kernels: to be written. */
