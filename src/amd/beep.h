/* beep: the voicemail-beep finder inside amd (amd.h says what a beep is). Internal to the
 * module: amd.c feeds it every whole frame with the frame's level. */
#ifndef CCCD_AMD_BEEP_H
#define CCCD_AMD_BEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct amd_conf;

struct beep {
	const struct amd_conf *c;
	unsigned run_frames;    /* steady tonal frames in a row so far */
	double run_hz_sum;      /* their estimates, summed */
	uint32_t run_end_ms;    /* audio ms at the end of the run's last frame */
	bool found;
	uint32_t end_ms;
	unsigned hz;
};

void beep_init(struct beep *b, const struct amd_conf *c);
/* One whole frame (AMD_FRAME samples), its level, and the audio ms at its end. */
void beep_frame(struct beep *b, const int16_t *pcm, size_t n, double dbfs, uint32_t end_ms);
/* The audio ended: a run still going is judged as it stands. */
void beep_close(struct beep *b);

#endif
