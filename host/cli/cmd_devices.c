/* clseq devices: every platform and device, the default marked. */
#include <stdio.h>
#include <string.h>

#include "clseq.h"
#include "commands.h"

enum { MAX_LISTED = 64 };

int cmd_devices(int argc, char **argv)
{
    if (argc > 1) {
        FILE *out = strcmp(argv[1], "--help") == 0 ? stdout : stderr;
        fprintf(out, "usage: clseq devices\n  Lists every OpenCL platform and device; '*' marks "
                     "the one clseq uses by default ($CLSEQ_DEVICE, else the first GPU, else the "
                     "first device).\n");
        return out == stdout ? 0 : 2;
    }
    clseq_device_info devices[MAX_LISTED];
    int count = 0;
    clseq_status s = clseq_list_devices(devices, MAX_LISTED, &count);
    if (s != CLSEQ_OK) {
        fprintf(stderr, "clseq devices: %s\n", clseq_last_error());
        return 1;
    }
    int shown = count < MAX_LISTED ? count : MAX_LISTED;
    const char *last_platform = "";
    for (int i = 0; i < shown; i++) {
        const clseq_device_info *d = &devices[i];
        if (strcmp(d->platform, last_platform) != 0) {
            printf("platform %d: %s\n", d->platform_index, d->platform);
            last_platform = d->platform;
        }
        printf("  %c %d:%d  %s\n", d->is_default ? '*' : ' ', d->platform_index, d->device_index,
               d->name);
        printf("        type %s, %s, driver %s\n", d->type, d->version, d->driver);
        printf("        %d compute units, %.1f GiB global memory, %.0f KiB local memory\n",
               d->compute_units, d->global_mem / (1024.0 * 1024.0 * 1024.0),
               d->local_mem / 1024.0);
    }
    printf("* = default device\n");
    return 0;
}
