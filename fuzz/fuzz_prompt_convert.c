/* Fuzz harness: arbitrary bytes as an uploaded prompt (UploadIvrAudio fetches them from
 * anyone's URL) through media_prompt_convert — type sniffing, libsndfile's WAV reader,
 * libmpg123, resampling and the WAV writer. The output goes to one scratch file per
 * process, removed after each input. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], why[256];

	snprintf(path, sizeof(path), "/tmp/fuzz-prompt-convert-%d.wav", (int)getpid());
	if (!media_prompt_convert(data, size, path, why, sizeof(why)))
		unlink(path);
	return 0;
}
