/*
 * replay.c - runs a libFuzzer harness's LLVMFuzzerTestOneInput() over
 * saved inputs without libFuzzer, so that the normal and the sanitizer
 * builds (gcc) replay every committed corpus and regression input in
 * "make check". Linked with one fuzz_NAME.c into replay_NAME.
 *
 *   replay_NAME FILE|DIR...
 *
 * Prints one TAP line per argument ("ok N - DIR: K inputs"); a directory
 * that does not exist is a failure, an empty one is not. A memory error
 * or a leak in an input is the sanitizer's to report: it aborts the
 * process, and the missing plan fails the test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read a whole file; NULL on error. An empty file gives a 1-byte buffer. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL &&
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	} else if (buf != NULL)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

/* One input, copied to a buffer of its exact size (as libFuzzer does, so
 * that ASan sees a read past its end). Returns 0 if it could not be read. */
static int
run_file(const char *path)
{
	size_t len = 0;
	uint8_t *buf = slurp(path, &len), *exact;

	if (buf == NULL) {
		printf("# cannot read %s\n", path);
		return 0;
	}
	if ((exact = malloc(len > 0 ? len : 1)) == NULL) {
		free(buf);
		return 0;
	}
	memcpy(exact, buf, len);
	free(buf);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order; -1 on error. */
static long
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	long done = 0;
	struct stat st;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more;

			cap = cap ? cap * 2 : 64;
			if ((more = realloc(names, cap * sizeof(*names))) ==
			    NULL)
				break;
			names = more;
		}
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (!run_file(path))
				done = -1;
			else if (done >= 0)
				done++;
		}
		free(names[i]);
	}
	free(names);
	return done;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, failed = 0;
	long n;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = run_dir(argv[i]);
		else
			n = run_file(argv[i]) ? 1 : -1;
		if (n < 0)
			failed++;
		printf("%sok %d - %s: %ld input%s replayed\n", n < 0 ? "not " :
		    "", i, argv[i], n < 0 ? 0 : n, n == 1 ? "" : "s");
	}
	printf("1..%d\n", argc - 1);
	return failed ? 1 : 0;
}
