/*
 * test_cli_memory.c — the careshed command's memory settings (src/cli/memory.c): a
 * block of 4 MB or more is backed by huge pages on request, a smaller one is left to
 * the kernel's default, and the library's own large allocations get the advice once the
 * command has set up its memory, a grown block's copy and the heap's growth included.
 * Read back from the kernel's view of the process
 * (/proc/self/smaps: "hg" in a mapping's VmFlags is MADV_HUGEPAGE).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/memory.h"
#include "core/core.h"

#define MB ((size_t)1 << 20)

/* The kernel offers transparent huge pages at all (any mode but absent). */
static bool kernel_has_huge_pages(void)
{
    return access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
}

/* Whether the mapping holding address p is advised to use huge pages. */
static bool advised_huge(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool inside = false, huge = false;
    uintptr_t at = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = at >= lo && at < hi;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            huge = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return huge;
}

/* The kB of the mappings over [p, p + n) that are backed by huge pages now (their
 * AnonHugePages; advice splits a block's mapping at its whole 2 MB pages). */
static unsigned long huge_backed_kb(const void *p, size_t n)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool inside = false;
    unsigned long kb, total = 0;
    uintptr_t from = (uintptr_t)p, to = from + n;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = lo < to && hi > from;
        else if (inside && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
            total += kb;
    }
    fclose(f);
    return total;
}

/* Huge pages offered on request: "[madvise]" or "[always]". */
static bool huge_pages_on_request(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char mode[128] = "";
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = '\0';
        fclose(f);
    }
    return strstr(mode, "[madvise]") || strstr(mode, "[always]");
}

/* A fresh anonymous mapping of n bytes, not advised by anyone yet. */
static unsigned char *fresh_mapping(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static void large_blocks_get_huge_pages(void **state)
{
    (void)state;
    if (!kernel_has_huge_pages())
        skip();
    size_t n = 16 * MB;
    unsigned char *p = fresh_mapping(n);
    assert_false(advised_huge(p + 8 * MB));
    /* a block starting 1 byte into the mapping: its whole 2 MB pages are advised */
    cli_advise_large_pages(p + 1, n - 1);
    assert_true(advised_huge(p + 8 * MB));
    assert_true(advised_huge(p + n - 2 * MB));
    munmap(p, n);
}

static void small_blocks_are_left_alone(void **state)
{
    (void)state;
    if (!kernel_has_huge_pages())
        skip();
    size_t n = 8 * MB;
    unsigned char *p = fresh_mapping(n);
    cli_advise_large_pages(p, 4 * MB - 1);
    assert_false(advised_huge(p));
    assert_false(advised_huge(p + 2 * MB));
    munmap(p, n);
}

static void the_library_allocates_through_it(void **state)
{
    (void)state;
    if (!kernel_has_huge_pages())
        skip();
    cli_memory_setup();
    size_t n = 64 * MB;
    unsigned char *p = cs_malloc(n);
    assert_non_null(p);
    assert_true(advised_huge(p + n / 2));
    cs_free(p);
    cs_set_allocator(NULL);
}

/* A block grown past 4 MB: its contents kept, and copied into huge pages (realloc
 * would have copied them into 4 kB pages, a fault each, before any advice). */
static void grown_blocks_are_copied_into_huge_pages(void **state)
{
    (void)state;
    if (!huge_pages_on_request())
        skip();
    cli_memory_setup();
    size_t old = 8 * MB, n = 64 * MB;
    unsigned char *p = cs_malloc(old);
    assert_non_null(p);
    for (size_t i = 0; i < old; i++)
        p[i] = (unsigned char)(i * 7 + i / 4096);
    unsigned char *q = cs_realloc(p, n);
    assert_non_null(q);
    for (size_t i = 0; i < old; i++)
        if (q[i] != (unsigned char)(i * 7 + i / 4096))
            fail_msg("byte %zu changed in the grown block", i);
    /* the 8 MB copied hold at least two whole 2 MB pages, touched by the copy alone */
    assert_true(huge_backed_kb(q, old) >= 4096);
    cs_free(q);
    /* shrinking, and growing a small block, are realloc's as before */
    unsigned char *r = cs_malloc(100);
    assert_non_null(r);
    memset(r, 5, 100);
    r = cs_realloc(r, 1000);
    assert_non_null(r);
    assert_int_equal(r[99], 5);
    cs_free(r);
    cs_set_allocator(NULL);
}

/* The heap grown for small blocks (two million ids, say) is advised for huge pages
 * before they are touched: here grown by hand as glibc grows it, then noticed at the
 * next allocation through the command's allocator. */
static void heap_growth_is_advised(void **state)
{
    (void)state;
    if (!huge_pages_on_request())
        skip();
    cli_memory_setup();
    char *end = sbrk(0);
    assert_true(sbrk((intptr_t)(16 * MB)) != (void *)-1);
    char *inside = (char *)(((uintptr_t)end + 2 * MB - 1) & ~(uintptr_t)(2 * MB - 1)) + MB;
    assert_false(advised_huge(inside));
    void *p = cs_malloc(64);
    assert_non_null(p);
    assert_true(advised_huge(inside));
    cs_free(p);
    cs_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(large_blocks_get_huge_pages),
        cmocka_unit_test(small_blocks_are_left_alone),
        cmocka_unit_test(the_library_allocates_through_it),
        cmocka_unit_test(grown_blocks_are_copied_into_huge_pages),
        cmocka_unit_test(heap_growth_is_advised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
