/* fuzz_driver.c -- run a libFuzzer target without libFuzzer.
 *
 * For compilers without -fsanitize=fuzzer (gcc), and as a regression runner:
 * links with a target that defines LLVMFuzzerTestOneInput and feeds it
 *   - every file named on the command line (a directory: every file in it), then
 *   - N deterministic pseudo-random inputs with `-n N` (lengths 0..300, with
 *     runs of 0x00 and 0xFF mixed in, so boundary values come up often).
 * A violation in the target aborts; otherwise prints what ran and exits 0.
 *
 * Usage: fuzz_driver [-n N] [-seed S] [FILE_OR_DIR...]
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (1 << 20)
static uint8_t g_buf[MAX_INPUT];
static long g_files = 0;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    size_t n = fread(g_buf, 1, MAX_INPUT, f);
    fclose(f);
    fprintf(stderr, "fuzz_driver: %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(g_buf, n);
    g_files++;
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        exit(2);
    }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        run_path(child);
    }
    closedir(dir);
}

static uint64_t g_rng;

static uint64_t splitmix64(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    long n_random = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) n_random = atol(argv[++i]);
        else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else run_path(argv[i]);
    }
    g_rng = seed;
    for (long k = 0; k < n_random; k++) {
        size_t len = (size_t)(splitmix64() % 301);
        for (size_t j = 0; j < len; j++) {
            uint64_t r = splitmix64();
            /* a quarter of the bytes are 0x00 or 0xFF: small values and INT64_MAX - small */
            g_buf[j] = (r & 3) == 0 ? ((r >> 2) & 1 ? 0xFF : 0x00) : (uint8_t)(r >> 8);
        }
        LLVMFuzzerTestOneInput(g_buf, len);
    }
    printf("fuzz_driver: %ld files and %ld pseudo-random inputs (seed %llu): no violation\n",
           g_files, n_random, (unsigned long long)seed);
    return 0;
}
