/*
 * hilbert.h — positions along the Hilbert curve through a 65536 x 65536 grid: what the
 * demand layer's features are stored in (FlatGeobuf's packed R-tree needs it) and what
 * careshed shard orders areas by, so that a run of the order lies together.
 *
 * The curve of the classic loop (xy2d), one level at a time from the top, where the
 * point's quadrant gives two digits of the index and turns the frame for the levels
 * below (x and y swapped when the quadrant is a lower one, and both complemented when
 * it is the lower right). Four levels are done at once from a table: for each frame and
 * four bits of x and of y, the eight bits of the index and the frame after them. (The
 * loop's branches depend on the point, so the processor mispredicts half of them:
 * ordering two million points took 0.3 s that way.)
 */
#ifndef CS_HILBERT_H
#define CS_HILBERT_H

#include <stdint.h>

#define CS_HILBERT_TABLE (4u << 8) /* entries of the table */

/* Fill the table cs_hilbert reads (once; it never changes). */
void cs_hilbert_table(uint16_t table[CS_HILBERT_TABLE]);

/* The index of (x, y), each in [0, 65535], along the curve. */
static inline uint32_t cs_hilbert(const uint16_t *table, uint32_t x, uint32_t y)
{
    uint32_t d = 0, f = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        uint32_t e = table[f << 8 | ((x >> shift) & 15) << 4 | ((y >> shift) & 15)];
        d = d << 8 | (e & 0xff);
        f = e >> 8;
    }
    return d;
}

#endif
