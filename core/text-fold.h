/*
 * text-fold.h - search keys for client names: case and keyboard
 * differences folded away (text-fold.c). Depends on nothing else in core,
 * so the unit test and the fuzz target can build it alone.
 */
#ifndef TEXT_FOLD_H
#define TEXT_FOLD_H

#include <stddef.h>

/* Folds UTF-8 text into a search key: caller frees. NULL when s is not
 * valid UTF-8 (overlongs, surrogates, > U+10FFFF rejected), contains a NUL
 * byte, or out of memory. s is len bytes and need not be NUL-terminated;
 * the key is NUL-terminated, never longer than len bytes, and "" when s
 * holds only whitespace. */
char *text_fold(const char *s, size_t len);

#endif
