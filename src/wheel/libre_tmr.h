/* libre_tmr: libre's own timers (SIP transactions and dialogs, DNS) on the control loop's
 * timer wheel rather than on libre's sorted list, by interposing libre's tmr_start (see
 * libre_tmr.c for how and why, docs/architecture.md §Timers). */
#ifndef CCCD_LIBRE_TMR_H
#define CCCD_LIBRE_TMR_H

#include <stdbool.h>

/* On a libre loop thread that has a wheel (wheel_init), after libre_init: from now on
 * libre's timers with a delay started on this thread wait on its wheel (on_wheel true),
 * or stay on libre's list (false: `[sip] libre_timers = list`). Proves first that libre's
 * own calls reach the wheel; if they do not, warns and keeps libre's list. Logs the mode
 * and sets the cccd_libre_timers_wheel gauge. Returns whether the wheel is in use. */
bool libre_tmr_init(bool on_wheel);

/* This thread's libre timers go to libre's list again (before wheel_close). */
void libre_tmr_close(void);

#endif
