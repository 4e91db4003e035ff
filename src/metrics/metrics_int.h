/* metrics_int: what the metrics files share. */
#ifndef CCCD_METRICS_INT_H
#define CCCD_METRICS_INT_H

struct metrics_out;

/* The families of the fixed slots (counters.c). */
void metrics_counters_write(struct metrics_out *o);

#endif
