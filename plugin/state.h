/*
 * state.h: the dedup state file, DIR/state next to the spool.
 *
 * Written atomically (temp file in DIR/tmp/, fsync, rename, fsync the
 * directory, mode 0600), every few seconds when something changed and at
 * exit; read at start. A file that cannot be parsed is moved aside to
 * DIR/state.corrupt-<time> with a warning and the helper starts empty:
 * never fatal.
 */
#ifndef OMK_STATE_H
#define OMK_STATE_H

#include <stdbool.h>
#include <time.h>

#include "dedup.h"
#include "spool.h"

#define STATE_FILE "state"

/* Save d; false (with a warning logged) if it could not be written. */
bool state_save(struct dedup *d, struct spool *sp, time_t now);
/*
 * Load DIR/state into *dp (an empty dedup made with cfg). On a corrupt
 * file *dp is replaced by a fresh one. Returns the keys loaded.
 */
size_t state_load(struct dedup **dp, const struct dedup_config *cfg,
    struct ruleset *rs, struct spool *sp);

#endif
