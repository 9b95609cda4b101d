// Replays inputs through a harness without libFuzzer: linked with any
// fuzz_*.c by any C compiler (the unit tests' gcc with ASan and UBSan), so
// the committed crash inputs (fuzz/regress/<harness>/) and the seed corpus
// (fuzz/corpus/<harness>/) are regression tests even where clang is absent.
//
//   replay_detect fuzz/regress/detect fuzz/corpus/detect   (files or folders)
//
// Prints "<name> replay: N inputs ok" and returns 0, or stops at the first
// input that fails a property (the harness aborts, naming it).
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static size_t replayed = 0;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return 1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    // an exact-size copy: a read past the input is an ASan report, as under libFuzzer
    uint8_t *exact = malloc(n ? n : 1);
    if (exact == NULL) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, n);
    free(buf);
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    replayed++;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: no such file or folder: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        return 1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;  // ., .. and hidden files (.gitkeep)
        }
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (grown == NULL) {
            break;
        }
        names = grown;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[count] = malloc(len);
        snprintf(names[count], len, "%s/%s", path, e->d_name);
        count++;
    }
    closedir(dir);
    if (count > 1) {
        qsort(names, count, sizeof *names, cmp_str);  // a fixed order: failures reproduce
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        rc |= replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    int rc = 0;
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    for (int i = 1; i < argc; i++) {
        rc |= replay_path(argv[i]);
    }
    printf("%s: %zu inputs ok\n", name, replayed);
    return rc;
}
