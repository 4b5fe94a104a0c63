/*
 * test_cli_memory.c — the careshed command's memory settings (src/cli/memory.c): a
 * block of 4 MB or more is backed by huge pages on request, a smaller one is left to
 * the kernel's default, and the library's own large allocations get the advice once the
 * command has set up its memory. Read back from the kernel's view of the process
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(large_blocks_get_huge_pages),
        cmocka_unit_test(small_blocks_are_left_alone),
        cmocka_unit_test(the_library_allocates_through_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
