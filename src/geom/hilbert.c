/*
 * hilbert.c — the table of the Hilbert curve's index (geom/hilbert.h).
 */
#include "geom/hilbert.h"

#define FRAME_SWAPPED 1u
#define FRAME_COMPLEMENTED 2u

/* One level: the point's bits bx, by in frame f; the index's two digits, and the frame
 * for the levels below into *f. */
static unsigned hilbert_level(unsigned *f, unsigned bx, unsigned by)
{
    unsigned cp = *f & FRAME_COMPLEMENTED ? 1 : 0;
    unsigned rx = (*f & FRAME_SWAPPED ? by : bx) ^ cp, ry = (*f & FRAME_SWAPPED ? bx : by) ^ cp;
    if (!ry)
        *f ^= FRAME_SWAPPED | (rx ? FRAME_COMPLEMENTED : 0);
    return (3 * rx) ^ ry;
}

/* table[f << 8 | x4 << 4 | y4] for four bits x4, y4 of a point in frame f: in its low
 * eight bits the index's digits for those four levels, above them the frame after. */
void cs_hilbert_table(uint16_t table[CS_HILBERT_TABLE])
{
    for (unsigned i = 0; i < CS_HILBERT_TABLE; i++) {
        unsigned f = i >> 8, x4 = (i >> 4) & 15, y4 = i & 15, bits = 0;
        for (int level = 3; level >= 0; level--)
            bits = bits << 2 | hilbert_level(&f, (x4 >> level) & 1, (y4 >> level) & 1);
        table[i] = (uint16_t)(bits | f << 8);
    }
}

