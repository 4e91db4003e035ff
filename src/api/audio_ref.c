/* audio_ref: how flows checked by the API find the instance's uploaded prompts — for
 * CccdPutIVRFlow's validation, and for CccdDeleteIvrAudio, which loads each current flow
 * the same way to learn whether it names the file about to go. */
#include <errno.h>
#include <stdio.h>
#include "api/api_int.h"
#include "store/store.h"

int api_audio_resolve(uint64_t file_id, const char *custom_name, char *path, size_t sz,
		      void *arg)
{
	struct api_audio_ref *r = arg;
	struct store_audio a;
	int err = store_audio_find(r->st, r->sdkappid, file_id, custom_name, &a);

	if (err)
		return err;
	if (r->watch && a.file_id == r->watch)
		r->used = true;
	snprintf(path, sz, "%s", a.path);
	return 0;
}
