/* earlyaudio: a small FFT (no library for one 256-point transform a hop) and the power
 * spectrum the classifier and the fingerprint share. */
#include <math.h>
#include <pthread.h>
#include "earlyaudio/earlyaudio_int.h"

static float hann[EA_WIN];
static pthread_once_t hann_once = PTHREAD_ONCE_INIT;

static void hann_init(void)
{
	for (unsigned i = 0; i < EA_WIN; i++)
		hann[i] = 0.5f - 0.5f * cosf(2.0f * (float)M_PI * (float)i / (float)EA_WIN);
}

void earlyaudio_fft(float *re, float *im, unsigned n)
{
	for (unsigned i = 1, j = 0; i < n; i++) {
		unsigned bit = n >> 1;

		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
		if (i < j) {
			float tr = re[i], ti = im[i];

			re[i] = re[j];
			im[i] = im[j];
			re[j] = tr;
			im[j] = ti;
		}
	}
	for (unsigned len = 2; len <= n; len <<= 1) {
		float ang = -2.0f * (float)M_PI / (float)len;
		float wr = cosf(ang), wi = sinf(ang);

		for (unsigned i = 0; i < n; i += len) {
			float cr = 1.0f, ci = 0.0f;

			for (unsigned k = 0; k < len / 2; k++) {
				unsigned a = i + k, b = i + k + len / 2;
				float xr = re[b] * cr - im[b] * ci;
				float xi = re[b] * ci + im[b] * cr;
				float t = cr * wr - ci * wi;

				re[b] = re[a] - xr;
				im[b] = im[a] - xi;
				re[a] += xr;
				im[a] += xi;
				ci = cr * wi + ci * wr;
				cr = t;
			}
		}
	}
}

/* win: the last EA_WIN samples (ending with hop, the last EA_HOP of them). The level is
 * the hop's own, so a tone that stops is quiet on the next hop. */
void earlyaudio_spectrum(const int16_t *win, const int16_t *hop, struct ea_spec *s)
{
	float re[EA_WIN], im[EA_WIN];
	double e = 0;

	pthread_once(&hann_once, hann_init);
	for (unsigned i = 0; i < EA_WIN; i++) {
		re[i] = (float)win[i] / 32768.0f * hann[i];
		im[i] = 0;
	}
	earlyaudio_fft(re, im, EA_WIN);
	s->band = 0;
	for (unsigned k = 0; k < EA_BINS; k++) {
		s->pow[k] = re[k] * re[k] + im[k] * im[k];
		if (k >= 3 && k <= 112)
			s->band += s->pow[k];
	}
	for (unsigned i = 0; i < EA_HOP; i++)
		e += (double)hop[i] * hop[i];
	/* mean square over full scale, +3 dB so that a full-scale sine reads 0 dBFS */
	s->db = (float)(10.0 * log10(e / EA_HOP / (32768.0 * 32768.0) + 1e-12) + 3.0103);
}
